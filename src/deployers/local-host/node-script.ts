/**
 * How to run one of bp's own Node entry points as a child process. The CLI runs compiled
 * `dist/` (the sibling `.js` exists); tests run the TypeScript sources, where only the
 * `.ts` exists and tsx must be preloaded to execute it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface NodeInvocation {
  command: string;
  args: string[];
}

/** `relativeJs` is relative to `fromUrl` and names the compiled `.js` file. */
export function nodeScript(relativeJs: string, fromUrl: string): NodeInvocation {
  const js = fileURLToPath(new URL(relativeJs, fromUrl));
  if (existsSync(js)) return { command: process.execPath, args: [js] };
  const ts = js.replace(/\.js$/, '.ts');
  const tsx = createRequire(fromUrl).resolve('tsx');
  return { command: process.execPath, args: ['--import', pathToFileURL(tsx).href, ts] };
}

export function routerInvocation(): NodeInvocation {
  return nodeScript('../../router/main.js', import.meta.url);
}
