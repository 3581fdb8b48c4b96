import { loadDesired } from '../../apply/desired.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import { InvalidInputError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';

export async function validateCommand(
  file: string,
  flags: SourceFlags & { json: boolean; plugins?: boolean },
): Promise<number> {
  try {
    const d = await loadDesired(file, await loadOptionsFrom(flags), { plugins: flags.plugins !== false });
    for (const w of d.warnings) process.stderr.write(`${w}\n`);
    const revisions = d.env.deployments.reduce((n, dep) => n + dep.revisions.length, 0);
    if (flags.json) {
      process.stdout.write(
        JSON.stringify({
          format_version: OUTPUT_FORMATS.validate,
          valid: true,
          file,
          environment_id: d.env.environment_id,
          problems: [],
          warnings: d.warnings,
        }) + '\n',
      );
    } else {
      process.stdout.write(
        `${file}: valid (environment "${d.env.environment_id}", ${d.env.deployments.length} deployment(s), ${revisions} revision(s))\n`,
      );
    }
    return 0;
  } catch (e) {
    if (flags.json && e instanceof InvalidInputError) {
      process.stdout.write(
        JSON.stringify({
          format_version: OUTPUT_FORMATS.validate,
          valid: false,
          file,
          environment_id: null,
          problems: e.problems,
          warnings: [],
        }) + '\n',
      );
      return 1;
    }
    throw e;
  }
}
