/**
 * How the engine resolves an environment's references (env, file, secret stores) for a plan or
 * an apply, and asks the stores for newer versions. Split from engine.ts; the engine calls these.
 */
import type { Environment } from '../model/environment.js';
import type { RecordedState } from '../model/state.js';
import { resolveReferences, type EnvReferenceSite } from '../spec/index.js';
import type { DeployerSet } from './deployer-set.js';
import type { EngineContext, PlanRequest } from './engine.js';
import { fetchReferences } from './secrets/resolve.js';
import { currentSecretVersions } from './secrets/versions.js';

/**
 * `value` (a part of the environment at `basePath`, or all of it) with its references resolved:
 * fetched once each (env, file, secret stores), registered with the redactor, substituted.
 */
export async function resolveAt<T>(
  ctx: EngineContext,
  req: PlanRequest,
  value: T,
  basePath?: (string | number)[],
): Promise<T> {
  return (await resolveWithVersions(ctx, req, value, basePath)).value;
}

/** `resolveAt`, plus the store version id of each secret reference (by its text). */
export async function resolveWithVersions<T>(
  ctx: EngineContext,
  req: PlanRequest,
  value: T,
  basePath?: (string | number)[],
): Promise<{ value: T; versions: Record<string, string> }> {
  const where: EnvReferenceSite = { file: req.source?.file ?? '<environment>', locate: req.source?.locate, basePath };
  const { lookup, versions } = await fetchReferences(value, { vars: ctx.vars, baseDir: req.baseDir, basePath });
  return { value: resolveReferences(value, lookup, where), versions };
}

/** Asks the stores for newer versions of live revisions' secrets, when refreshing a normal plan. */
export function storeVersions(
  ctx: EngineContext,
  req: PlanRequest,
  recorded: RecordedState | null,
  signal?: AbortSignal,
): Promise<Record<string, Record<string, string>> | null> {
  if (req.refresh === false || req.destroy) return Promise.resolve(null);
  return currentSecretVersions(recorded, { vars: ctx.vars, baseDir: req.baseDir, signal });
}

/**
 * The environment with every reference resolved, except `artifact.env` of deployments whose
 * deployer delivers secrets itself (`fetchesSecretsItself`): those reach it as written, and
 * bp never holds their values.
 */
export async function resolveForApply(
  ctx: EngineContext,
  req: PlanRequest,
  deployers: DeployerSet,
): Promise<{ value: Environment; versions: Record<string, string> }> {
  const desired = req.desired;
  const own = new Set<string>();
  for (const name of Object.keys(desired.deployers)) {
    const plugin = await deployers.plugin(name).catch(() => null);
    if (plugin?.fetchesSecretsItself) own.add(name);
  }
  if (own.size === 0) return resolveWithVersions(ctx, req, desired);
  const withEnv = (d: Environment['deployments'][number], envOf: (ri: number) => Record<string, string>) => ({
    ...d,
    revisions: d.revisions.map((r, ri) => ({ ...r, artifact: { ...r.artifact, env: envOf(ri) } })),
  });
  const stripped = {
    ...desired,
    deployments: desired.deployments.map((d) => (own.has(d.deployer) ? withEnv(d, () => ({})) : d)),
  };
  const { value: resolved, versions } = await resolveWithVersions(ctx, req, stripped);
  return {
    versions,
    value: {
      ...resolved,
      deployments: resolved.deployments.map((d, di) =>
        own.has(d.deployer) ? withEnv(d, (ri) => desired.deployments[di].revisions[ri].artifact.env) : d,
      ),
    },
  };
}
