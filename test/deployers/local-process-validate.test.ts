/**
 * What local-process refuses at validate (src/deployers/local-process/env-checks.ts through the
 * plugin's checkEnvironment), each problem at the FILE:LINE:COL of the offending value, and the
 * same refusal before anything is spawned.
 */
import { describe, expect, it } from 'vitest';
import { validationLab } from '../helpers/validate-problems.js';
import { resolveCommand } from '../../src/deployers/local-process/command.js';
import type { DeployerRevision } from '../../src/model/deployer.js';

const { dir, problems } = validationLab('bp-local-validate');

function at(yaml: string, needle: string): { line: number; col: number } {
  const before = yaml.slice(0, yaml.indexOf(needle)).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

const envFile = (artifact: string) => `schema: bp.environment/v1
environment_id: prod
deployers: { local: { type: local-process } }
deployments:
  - deployment_id: web
    deployer: local
    listen: 127.0.0.1:8080
    revisions:
      - revision_id: web-v1
        artifact: ${artifact}
    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]
`;

describe('local-process limits at validate', () => {
  it('accepts a plain environment', async () => {
    expect(await problems('ok', envFile('{ command: [node, server.js], env: { GREETING: hi } }'))).toEqual([]);
  });

  it('refuses an image artifact, at the artifact', async () => {
    const yaml = envFile('{ image: web }');
    expect(await problems('image', yaml)).toEqual([
      {
        ...at(yaml, 'artifact:'),
        message: expect.stringMatching(/declares an image \(web\); the local-process deployer runs/),
      },
    ]);
  });

  it('refuses a command word over 131,071 bytes, at the word', async () => {
    const yaml = envFile(`{ command: [node, "${'a'.repeat(131_072)}"] }`);
    expect(await problems('argv', yaml)).toEqual([
      {
        ...at(yaml, '"aaa'),
        message: expect.stringMatching(
          /artifact.command\[1\] is 131072 bytes; Linux refuses an argument over 131071 bytes/,
        ),
      },
    ]);
  });

  it('refuses an env string over 131,071 bytes, at the env value', async () => {
    const yaml = envFile(`{ command: [node], env: { BIG: "${'x'.repeat(131_068)}" } }`);
    expect(await problems('env', yaml)).toEqual([
      { ...at(yaml, '"xxx'), message: expect.stringMatching(/env "BIG" is 131072 bytes as NAME=value/) },
    ]);
  });

  it('refuses a resolved env value over the limit before spawning', () => {
    const revision = {
      revision_id: 'web-v1',
      artifact: { command: ['node'], env: { BIG: 'x'.repeat(200_000) } },
    } as unknown as DeployerRevision;
    expect(() => resolveCommand(revision, dir)).toThrow(/env "BIG" is 200004 bytes as NAME=value/);
  });
});
