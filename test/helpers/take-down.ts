/**
 * Taking deployments down the way bp does (`bp destroy`, a deployment removed from the file):
 * every revision wanted archived, each archive through the engine's path
 * (`src/apply/archive.ts`), which releases the deployment's routing once, before the archive
 * that needs it (docs/design.md#traffic-rules). Deployer tests use it instead of calling
 * `archiveRevision` on a deployment's last routed revision, which deployers refuse.
 */
import { archiveWithRouting, ReleaseRun } from '../../src/apply/archive.js';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';

/** `env` as bp hands it over to take `deploymentIds` (all when omitted) down. */
export function teardownEnv(env: DeployerEnvironment, deploymentIds?: readonly string[]): DeployerEnvironment {
  const copy = structuredClone(env);
  for (const d of copy.deployments) {
    if (deploymentIds && !deploymentIds.includes(d.deployment_id)) continue;
    for (const r of d.revisions) r.state = 'archived';
  }
  return copy;
}

/**
 * Archives every revision of `deploymentIds` (all when omitted) as bp's engine does: one after
 * another, or all at once with `parallel` (the engine runs independent archives in parallel).
 */
export async function takeDown(
  deployer: Deployer,
  env: DeployerEnvironment,
  deploymentIds?: readonly string[],
  { signal = new AbortController().signal, parallel = false }: { signal?: AbortSignal; parallel?: boolean } = {},
): Promise<void> {
  const down = teardownEnv(env, deploymentIds);
  const run = new ReleaseRun();
  const archives = down.deployments
    .filter((d) => !deploymentIds || deploymentIds.includes(d.deployment_id))
    .flatMap((d) =>
      d.revisions.map((r) => () => archiveWithRouting(deployer, down, d.deployment_id, r.revision_id, { signal }, run)),
    );
  if (parallel) await Promise.all(archives.map((archive) => archive()));
  else for (const archive of archives) await archive();
}

/** One archive or release call, as the span of a fake's journal it wrote. */
export interface VerbSpan {
  verb: 'archive' | 'release';
  target: string;
  from: number;
  to: number;
}

/**
 * `deployer` with its archive and release calls noted in `spans`, each as the journal
 * positions (`mark()`, a fake's journal length) before and after it; for sequential calls.
 */
export function tracedDeployer(deployer: Deployer, mark: () => number, spans: VerbSpan[]): Deployer {
  const span = async <T>(verb: VerbSpan['verb'], target: string, call: () => Promise<T>): Promise<T> => {
    const from = mark();
    try {
      return await call();
    } finally {
      spans.push({ verb, target, from, to: mark() });
    }
  };
  const traced = Object.create(deployer) as Deployer;
  traced.archiveRevision = (env, id, opts) => span('archive', id, () => deployer.archiveRevision(env, id, opts));
  const release = deployer.releaseRouting?.bind(deployer);
  traced.releaseRouting = release && ((env, id, opts) => span('release', id, () => release(env, id, opts)));
  return traced;
}
