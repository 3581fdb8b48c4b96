import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readConformanceConfig,
  renderCheck,
  renderFooter,
  renderJUnit,
  renderJson,
  runConformance,
} from '../../conformance/index.js';

export async function conformanceCommand(
  deployer: string,
  flags: { config?: string; junit?: string; only?: string[]; json: boolean; 'fixture-image'?: string },
): Promise<number> {
  const config = flags.config ? await readConformanceConfig(flags.config) : {};
  const stateDir = mkdtempSync(join(tmpdir(), 'bp-conformance-'));
  try {
    const report = await runConformance({
      type: deployer,
      baseDir: process.cwd(),
      config,
      stateDir,
      only: flags.only,
      fixture: flags['fixture-image'] ? { artifact: { image: flags['fixture-image'], env: {} } } : undefined,
      onCheck: flags.json ? undefined : (r) => process.stdout.write(renderCheck(r) + '\n'),
    });
    if (flags.junit) await writeFile(flags.junit, renderJUnit(report));
    process.stdout.write(flags.json ? renderJson(report) + '\n' : renderFooter(report) + '\n');
    return report.failed > 0 ? 1 : 0;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
