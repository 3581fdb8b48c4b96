/**
 * The cloud SDKs stay out of an install of the package (optional peer dependencies) and out of
 * type-checking's way (tsconfig.json `paths`: the real declarations when installed, stand-in
 * types when not). These checks keep that arrangement from silently decaying: an SDK upgrade
 * that moves its declarations would otherwise fall back to the `any` stand-ins unnoticed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const STAND_IN = './types/absent-cloud-sdk.d.ts';
const json = (f: string) => JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as Record<string, any>;
const pkg = json('package.json');
const paths = json('tsconfig.json').compilerOptions.paths as Record<string, string[]>;
const SDK = /^(@aws-sdk|@azure|@google-cloud|@kubernetes|@smithy|@aws-crypto)\//;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('cloud SDKs: optional peers, typed when present, stand-ins when absent', () => {
  it('are optional peer dependencies and devDependencies, never dependencies or optionalDependencies', () => {
    const peers = Object.keys(pkg.peerDependencies ?? {});
    expect(peers.length).toBeGreaterThan(10);
    for (const name of peers) {
      expect(name).toMatch(SDK);
      expect(pkg.peerDependenciesMeta[name], name).toEqual({ optional: true });
      expect(pkg.devDependencies[name], name).toBe(pkg.peerDependencies[name]);
    }
    expect(pkg.optionalDependencies).toBeUndefined();
    expect(Object.keys(pkg.dependencies).filter((d) => SDK.test(d))).toEqual([]);
  });

  it('every SDK module imported by src/ or test/ is mapped, to its real declarations first', () => {
    const imported = new Set<string>();
    for (const f of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'test'))]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:from |import\()'([^']+)'/g)) {
        if (SDK.test(m[1])) imported.add(m[1]);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const name of imported) expect(paths[name], `${name} has no tsconfig.json paths entry`).toBeDefined();
    for (const [name, [real, fallback]] of Object.entries(paths)) {
      expect(fallback, name).toBe(STAND_IN);
      expect(real, name).toMatch(new RegExp(`^\\./node_modules/${name.replace(/\.js$/, '')}`));
      // Installed here (devDependencies): the real file must exist, or type-checking would use the stand-ins.
      const installed = existsSync(join(ROOT, 'node_modules', name.split('/').slice(0, 2).join('/'), 'package.json'));
      if (installed) expect(existsSync(join(ROOT, real)), `${relative(ROOT, join(ROOT, real))} for ${name}`).toBe(true);
    }
  });

  it('tsconfig.no-cloud-sdk.json maps the same modules to the stand-ins only', () => {
    const absent = json('tsconfig.no-cloud-sdk.json').compilerOptions.paths as Record<string, string[]>;
    expect(Object.keys(absent).sort()).toEqual(Object.keys(paths).sort());
    for (const v of Object.values(absent)) expect(v).toEqual([STAND_IN]);
    expect(pkg.scripts['typecheck:no-cloud-sdk']).toBe('tsc -p tsconfig.no-cloud-sdk.json');
  });
});
