/**
 * The router shipped to each host: the same compiled router the local-process deployer
 * runs (`dist/router/main.js`), plus every module it imports, found by following its
 * relative imports, laid out as under dist/ with a package.json that marks them ES modules.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProviderError } from '../../model/errors.js';
import { treeDigest, type UploadFile, type UploadTree } from './artifact.js';

export interface RouterBundle {
  tree: UploadTree;
  /** Entry point relative to the bundle root. */
  main: string;
}

/** dist/router/main.js seen from dist/deployers/ssh/ (compiled) or src/deployers/ssh/ (tests from sources). */
const CANDIDATES = ['../../router/main.js', '../../../dist/router/main.js'];

function findMain(): string {
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new ProviderError('the compiled router (dist/router/main.js) is missing; build bp with: npm run build');
}

const RELATIVE_IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

function importClosure(main: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = resolve(dirname(file), spec);
      if (!existsSync(target))
        throw new ProviderError(`router module ${file} imports ${spec}, which is missing; rebuild with: npm run build`);
      visit(target);
    }
  };
  visit(main);
  return [...seen];
}

function commonRoot(files: string[]): string {
  let root = dirname(files[0]);
  while (!files.every((f) => f.startsWith(root + sep))) root = dirname(root);
  return root;
}

let cached: RouterBundle | null = null;

export function routerBundle(): RouterBundle {
  if (cached) return cached;
  const main = findMain();
  const modules = importClosure(main);
  const root = commonRoot(modules);
  const files: UploadFile[] = modules.map((path) => {
    const content = readFileSync(path);
    return {
      rel: relative(root, path).split(sep).join('/'),
      mode: statSync(path).mode & 0o644,
      sha256: createHash('sha256').update(content).digest('hex'),
      source: { content },
    };
  });
  const pkg = Buffer.from('{ "type": "module" }\n');
  files.push({
    rel: 'package.json',
    mode: 0o644,
    sha256: createHash('sha256').update(pkg).digest('hex'),
    source: { content: pkg },
  });
  const dirs = [...new Set(files.map((f) => f.rel.split('/').slice(0, -1).join('/')).filter(Boolean))].sort();
  const allDirs = [
    ...new Set(dirs.flatMap((d) => d.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')))),
  ].sort();
  cached = {
    tree: { files, dirs: allDirs, digest: treeDigest(files) },
    main: relative(root, main).split(sep).join('/'),
  };
  return cached;
}

export function bundleDirName(bundle: RouterBundle): string {
  return `router-${bundle.tree.digest.slice(0, 16)}`;
}
