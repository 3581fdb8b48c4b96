/**
 * Finds deployer plugins: built-in types by name, plugins by path (`./x.mjs`, relative to
 * the env file) or npm package name. Built-ins are imported lazily so that `bp --version`
 * and local-only work never load a cloud SDK.
 */
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEPLOYER_API_VERSION, type DeployerPlugin } from '../model/deployer.js';
import { PluginLoadError } from '../model/errors.js';
import { installPluginGuard } from './plugin-guard.js';

type PluginModule = { default?: unknown };

/**
 * Built-in types, each a thunk so nothing is imported until used. The path is a variable on
 * purpose: the compiler must not pull heavy deployer modules (and their SDKs) into anything
 * that merely imports the registry.
 */
const lazy = (path: string) => () => import(path) as Promise<PluginModule>;
const BUILT_INS: Record<string, () => Promise<PluginModule>> = {
  'local-process': () => import('./local-process.js'),
  ssh: lazy('./ssh.js'),
  docker: lazy('./docker.js'),
  k8s: lazy('./k8s.js'),
  'aws-eks': lazy('./aws-eks.js'),
  'aws-ec2': lazy('./aws-ec2.js'),
  'gcp-compute': lazy('./gcp-compute.js'),
  'azure-vm': lazy('./azure-vm.js'),
};

export function builtInTypes(): string[] {
  return Object.keys(BUILT_INS).sort();
}

/** Each built-in type's config schema (type -> schema), for compiling them ahead of time. */
export async function builtInConfigSchemas(): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const type of builtInTypes()) out[type] = (await loadDeployerPlugin(type, process.cwd())).configSchema;
  return out;
}

function looksLikePath(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || isAbsolute(type) || /\.(m?js|cjs|ts)$/.test(type);
}

const cache = new Map<string, Promise<DeployerPlugin>>();

/** Loads and checks a plugin. `baseDir` is where relative plugin paths and packages resolve from. */
export function loadDeployerPlugin(type: string, baseDir: string): Promise<DeployerPlugin> {
  const key = looksLikePath(type) ? resolve(baseDir, type) : `${baseDir}\0${type}`;
  let p = cache.get(key);
  if (!p) {
    p = loadUncached(type, baseDir);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function loadUncached(type: string, baseDir: string): Promise<DeployerPlugin> {
  installPluginGuard();
  let mod: PluginModule;
  const builtIn = Object.hasOwn(BUILT_INS, type) ? BUILT_INS[type] : undefined;
  try {
    if (builtIn) {
      mod = await builtIn();
    } else if (looksLikePath(type)) {
      mod = (await import(pathToFileURL(resolve(baseDir, type)).href)) as PluginModule;
    } else {
      const require = createRequire(resolve(baseDir, 'package.json'));
      let entry: string;
      try {
        entry = require.resolve(type);
      } catch (e) {
        throw new PluginLoadError(
          `deployer type "${type}" is neither a built-in type (${builtInTypes().join(', ')}) nor an installed npm package; ` +
            `install it with: npm install ${type}`,
          { cause: e },
        );
      }
      assertInstalledUnder(baseDir, type, entry);
      mod = (await import(pathToFileURL(entry).href)) as PluginModule;
    }
  } catch (e) {
    if (e instanceof PluginLoadError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new PluginLoadError(`cannot load deployer type "${type}": ${why}`, { cause: e });
  }
  return checkPlugin(type, mod.default);
}

export function checkPlugin(type: string, plugin: unknown): DeployerPlugin {
  const p = plugin as Partial<DeployerPlugin> | undefined;
  if (!p || typeof p !== 'object') {
    throw new PluginLoadError(`deployer plugin "${type}" has no default export object`);
  }
  if (p.apiVersion !== DEPLOYER_API_VERSION) {
    throw new PluginLoadError(
      `deployer plugin "${type}" declares apiVersion ${JSON.stringify(p.apiVersion)}; this bp supports apiVersion ${DEPLOYER_API_VERSION}`,
    );
  }
  if (typeof p.type !== 'string' || typeof p.create !== 'function') {
    throw new PluginLoadError(`deployer plugin "${type}" must export { type, apiVersion, configSchema, create }`);
  }
  if (typeof p.configSchema !== 'object' || p.configSchema === null) {
    throw new PluginLoadError(`deployer plugin "${type}" has no configSchema object`);
  }
  return p as DeployerPlugin;
}

/**
 * A plugin named by package comes only from a node_modules folder of the env file's directory
 * or one of its parents, never from NODE_PATH or a global folder: the file decides what runs.
 */
function assertInstalledUnder(baseDir: string, type: string, entry: string): void {
  const real = resolve(entry);
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    if (real.startsWith(join(dir, 'node_modules') + sep)) return;
    if (dirname(dir) === dir) break;
  }
  throw new PluginLoadError(
    `deployer package "${type}" resolved to ${real}, outside any node_modules folder of ${baseDir} or its parents; install it into the project with: npm install ${type}`,
  );
}
