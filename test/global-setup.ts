// CLI tests run the real `bin/bp`, which runs the compiled dist/: rebuild it once per test
// run. A build error is printed, not thrown, so unit tests still run; the CLI tests then fail
// on their own (and `npm ci` already refuses a tree that does not compile).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    process.stderr.write(`warning: building dist/ failed; CLI tests will fail:\n${r.stdout}${r.stderr}\n`);
}
