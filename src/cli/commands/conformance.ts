import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { json, requiredArg } from '../flags.js';

export default class Conformance extends BpCommand {
  static override summary = 'Prove a deployer (built-in type or plugin) against the conformance bench.';
  static override description =
    'Runs every check against a generated fixture environment, judging by observe(), and prints PASS/FAIL/SKIP per check ' +
    'and a final "N passed, N failed, N skipped" line. Exit 0 when every check passed, 1 otherwise.';
  static override examples = [
    '<%= config.bin %> conformance local-process',
    '<%= config.bin %> conformance ./my-deployer.mjs --config cfg.yaml --junit conformance.xml',
  ];
  static override args = {
    deployer: requiredArg('built-in type, plugin path or npm package'),
  };
  static override flags = {
    config: Flags.string({ summary: 'Deployer config file (YAML or JSON).' }),
    junit: Flags.string({ summary: 'Also write JUnit XML to this file.' }),
    'fixture-image': Flags.string({
      summary:
        'Run the fixture revisions from this image (for image-based deployers); it must serve HTTP on $PORT with 200 on /healthz.',
    }),
    only: Flags.string({ summary: 'Run only these checks (repeatable).', multiple: true }),
    json,
  };

  async run(): Promise<void> {
    await this.runOperation(Conformance, operations.conformance, (m, { args, flags }) =>
      m.conformanceCommand(args.deployer, flags),
    );
  }
}
