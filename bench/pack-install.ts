/**
 * The package as a user installs it: `npm pack`, then `npm install -g --omit=optional` of the
 * tarball into a temporary prefix, then the installed size (target: at most 60 MB), `bp
 * --version` and a local-process plan run from that install.
 *
 *   npx tsx bench/pack-install.ts            # prints the figures, exits 1 over 60 MB
 *   npx tsx bench/pack-install.ts --keep     # leaves the prefix for a look around
 *
 * Needs the npm registry for the dependencies (cloud SDKs are optional peers: not installed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIMIT_MB = 60;
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface InstalledPackage {
  prefix: string;
  tarball: string;
  tarballBytes: number;
  /** Everything under the prefix: bp-deploy and all it installed. */
  installedBytes: number;
  /** The installed `bp` executable. */
  bin: string;
  cleanup(): void;
}

/** Bytes of every file under `dir`, counting each file's size once (symlinks not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Packs the working tree (dist/ must be built) and installs the tarball globally into a temp prefix. */
export function packAndInstall(root = ROOT): InstalledPackage {
  const work = mkdtempSync(join(tmpdir(), 'bp-pack-'));
  const npm = (args: string[], cwd: string) =>
    execFileSync('npm', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      // A private cache: the user's cache is not ours to fill, and the figures do not depend on it.
      env: { ...process.env, npm_config_cache: join(work, 'cache'), npm_config_update_notifier: 'false' },
    });
  // --ignore-scripts: `prepare` would rebuild dist/; the caller built it.
  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], root)) as Array<{
    filename: string;
  }>;
  const tarball = join(work, packed[0].filename);
  const prefix = join(work, 'prefix');
  npm(['install', '-g', '--prefix', prefix, '--omit=optional', '--no-audit', '--no-fund', tarball], work);
  return {
    prefix,
    tarball,
    tarballBytes: statSync(tarball).size,
    installedBytes: treeBytes(prefix),
    bin: join(prefix, 'bin', 'bp'),
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const pkg = packAndInstall();
  const took = Date.now() - t0;
  try {
    const version = execFileSync(pkg.bin, ['--version'], { encoding: 'utf8' }).trim();
    const plan = execFileSync(pkg.bin, ['plan', join(ROOT, 'examples', 'env.yaml'), '--refresh=false'], {
      encoding: 'utf8',
      cwd: mkdtempSync(join(tmpdir(), 'bp-pack-plan-')),
    });
    const biggest = readdirSync(join(pkg.prefix, 'lib', 'node_modules', 'bp-deploy', 'node_modules'), {
      withFileTypes: true,
    })
      .filter((e) => e.isDirectory())
      .map((e) => {
        const p = join(pkg.prefix, 'lib', 'node_modules', 'bp-deploy', 'node_modules', e.name);
        return [e.name, treeBytes(p)] as const;
      })
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8);
    process.stdout.write(
      [
        `tarball:   ${mb(pkg.tarballBytes)} MB (${pkg.tarball})`,
        `installed: ${mb(pkg.installedBytes)} MB under ${pkg.prefix} (limit ${LIMIT_MB} MB), pack + install ${(took / 1000).toFixed(1)} s`,
        `largest dependencies: ${biggest.map(([n, b]) => `${n} ${mb(b)} MB`).join(', ')}`,
        `bp --version: ${version}`,
        `bp plan examples/env.yaml: ${plan.trim().split('\n').at(-1)}`,
        '',
      ].join('\n'),
    );
    process.exitCode = pkg.installedBytes > LIMIT_MB * 1024 * 1024 ? 1 : 0;
  } finally {
    if (!process.argv.includes('--keep')) pkg.cleanup();
  }
}
