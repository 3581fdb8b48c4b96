/**
 * I/O errors name the file and what bp was writing: a full disk, a read-only mount or a
 * path that cannot be written is one sentence ("could not write state file X: no space left
 * on device"), an IoError with code "Io", never a bare ENOSPC or a stack. Faults are real:
 * a tiny tmpfs filled to the last byte (ENOSPC), the same tmpfs remounted read-only (EROFS),
 * a directory where a file must go (EISDIR), and /proc (which refuses new files).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeJson } from '../../src/deployers/local-host/files.js';
import { BpError } from '../../src/model/errors.js';
import { emptyState } from '../../src/model/state.js';
import { writeFileDurable } from '../../src/state/durable.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { writeSnapshot } from '../../src/state/snapshot.js';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

const NOW = { operation: 'apply', timeoutMs: 0 };

async function failure(p: Promise<unknown>): Promise<BpError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(BpError.is(e), String(e)).toBe(true);
  expect((e as BpError).code).toBe('Io');
  return e as BpError;
}

function canMount(): boolean {
  const t = tempDir('bp-io-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', t.dir], { stdio: 'ignore' });
    execFileSync('umount', [t.dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    t.cleanup();
  }
}

describe('I/O errors without special privileges', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('bp-io-')));
  afterEach(() => t.cleanup());

  it('a durable write that cannot create its file names the file and the operation', async () => {
    const e = await failure(writeFileDurable('/proc/bp-io-test.json', '{}', { what: 'plan file' }));
    expect(e.message).toMatch(/^could not create plan file \/proc\/bp-io-test\.json\.tmp-\d+-\w+: /);
  });

  it('a state backup that cannot be written names the backup file', async () => {
    const paths = { snapshot: join(t.dir, 'state.json'), backup: join(t.dir, 'state.json.backup') };
    writeFileSync(paths.snapshot, '{}');
    mkdirSync(join(paths.backup, 'occupied'), { recursive: true }); // a non-empty directory where the backup goes
    const e = await failure(writeSnapshot(paths, emptyState('demo', 'l', new Date()), () => undefined));
    expect(e.message).toContain(`could not write state backup ${paths.backup}: `);
  });

  it('a deployer record that cannot be written names the record', () => {
    const file = join(t.dir, 'replicas.json');
    mkdirSync(`${file}.tmp`);
    let e: unknown;
    try {
      writeJson(file, []);
    } catch (x) {
      e = x;
    }
    expect(BpError.is(e)).toBe(true);
    expect((e as BpError).message).toBe(`could not write deployer record ${file}: is a directory`);
  });
});

describe.runIf(process.platform === 'linux' && canMount())('I/O errors on a full or read-only disk', () => {
  let t: ReturnType<typeof tempDir>;
  let mnt: string;
  const mounts: string[] = [];
  function mount(dir: string, sizeKb: number): void {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
    mounts.push(dir);
  }
  /** Fills the file system under `dir` to the last byte. */
  function fill(dir: string): void {
    try {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(4 * 1024 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
  }
  beforeEach(() => {
    t = tempDir('bp-io-mnt-');
    mnt = join(t.dir, 'mnt');
    mount(mnt, 256);
  });
  afterEach(() => {
    for (const m of mounts.splice(0).reverse()) execFileSync('umount', ['-l', m]);
    t.cleanup();
  });

  it('state file: ENOSPC names the state file being written', async () => {
    const backend = new LocalStateBackend(join(mnt, '.bp'));
    const session = await backend.lock('demo', NOW);
    fill(mnt);
    const e = await failure(session.begin(emptyState('demo', 'lineage', new Date())));
    expect(e.message).toMatch(
      new RegExp(
        `^could not (create|write) state (file|journal) ${mnt}/\\.bp/envs/demo/\\S+: no space left on device$`,
      ),
    );
    await session.release().catch(() => undefined);
  });

  it('lock file: ENOSPC names the lock file', async () => {
    await new LocalStateBackend(join(mnt, '.bp')).lock('demo', NOW).then((s) => s.release());
    fill(mnt);
    const e = await failure(new LocalStateBackend(join(mnt, '.bp')).lock('demo', NOW));
    expect(e.message).toBe(`could not write lock file ${mnt}/.bp/envs/demo/lock.json: no space left on device`);
  });

  it('lock file: EROFS names the lock file', async () => {
    await new LocalStateBackend(join(mnt, '.bp')).lock('demo', NOW).then((s) => s.release());
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const e = await failure(new LocalStateBackend(join(mnt, '.bp')).lock('demo', NOW));
    expect(e.message).toBe(`could not write lock file ${mnt}/.bp/envs/demo/lock.json: read-only file system`);
  });

  it('plan file (CLI): ENOSPC names the plan file, one sentence, exit 1', async () => {
    writeFile(
      join(t.dir, 'env.yaml'),
      engineEnv({
        provider: join(t.dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
    fill(mnt);
    const r = await bp(['plan', 'env.yaml', '--out', join(mnt, 'plan.json'), '--state-dir', join(t.dir, 'state')], {
      cwd: t.dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`could not (create|write) plan file ${mnt}/plan\\.json\\S*: no space left on device`),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runtime config (CLI): EROFS names the runtime config file', async () => {
    const stateDir = join(t.dir, 'state');
    writeFile(
      join(t.dir, 'env.yaml'),
      engineEnv({
        provider: join(t.dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
    const run = () => bp(['apply', 'env.yaml', '--auto-approve', '--state-dir', stateDir], { cwd: t.dir });
    expect((await run()).code).toBe(0);
    const runtime = join(stateDir, 'runtime');
    mount(runtime, 64);
    execFileSync('mount', ['-o', 'remount,ro', runtime]);
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`could not create runtime config ${runtime}/demo\\.json\\S*: read-only file system`),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
