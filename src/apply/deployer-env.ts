/**
 * Builds the `DeployerEnvironment` a deployer instance sees: the desired environment with
 * `${env:NAME}` resolved (in memory only), recorded lifecycle/outputs merged in, and every
 * deployment or revision recorded state still knows but the file dropped (desired archived).
 */
import type { DeployerDeployment, DeployerEnvironment, DeployerRevision } from '../model/deployer.js';
import { REVISION_DEFAULTS, type Deployment, type Environment, type Revision } from '../model/environment.js';
import type { RecordedRevision, RecordedState } from '../model/state.js';

/** Every deployment, declared or only recorded, keyed by id, with the instance name it uses. */
export function fullEnvironment(desired: Environment, recorded: RecordedState | null, destroy = false): Environment {
  const deployments: Deployment[] = [];
  const declared = new Set<string>();
  const recordedByDeployment = recordedRevisionsByDeployment(recorded);
  for (const d of desired.deployments) {
    declared.add(d.deployment_id);
    const revs = d.revisions.map((r) => (destroy ? { ...r, state: 'archived' as const } : r));
    const known = new Set(revs.map((r) => r.revision_id));
    for (const r of recordedByDeployment.get(d.deployment_id) ?? []) {
      if (!known.has(r.revision_id)) revs.push(revisionFromRecord(r));
    }
    deployments.push({ ...d, revisions: revs, traffic: destroy ? [] : d.traffic });
  }
  if (recorded) {
    for (const id of Object.keys(recorded.deployments).sort()) {
      if (declared.has(id)) continue;
      const rd = recorded.deployments[id];
      deployments.push({
        deployment_id: id,
        deployer: rd.deployer,
        listen: rd.listen,
        revisions: (recordedByDeployment.get(id) ?? []).map(revisionFromRecord),
        traffic: [],
      });
    }
  }
  return {
    ...desired,
    deployers: { ...(recorded?.deployers ?? {}), ...desired.deployers },
    deployments,
  };
}

/**
 * Recorded revisions grouped by deployment, each group sorted by id, in one pass: filtering
 * all revisions once per deployment made every apply quadratic in environment size.
 */
function recordedRevisionsByDeployment(recorded: RecordedState | null): Map<string, RecordedRevision[]> {
  const byDeployment = new Map<string, RecordedRevision[]>();
  if (!recorded) return byDeployment;
  for (const r of Object.values(recorded.revisions)) {
    const list = byDeployment.get(r.deployment_id);
    if (list) list.push(r);
    else byDeployment.set(r.deployment_id, [r]);
  }
  for (const list of byDeployment.values()) {
    list.sort((a, b) => (a.revision_id < b.revision_id ? -1 : a.revision_id > b.revision_id ? 1 : 0));
  }
  return byDeployment;
}

function revisionFromRecord(r: RecordedRevision): Revision {
  return {
    revision_id: r.revision_id,
    artifact: r.spec?.artifact ?? { env: {} },
    resources: r.spec?.resources ?? { ...REVISION_DEFAULTS.resources },
    health: r.spec?.health ?? { ...REVISION_DEFAULTS.health },
    drain_seconds: r.drain_seconds,
    ttl: r.ttl,
    state: 'archived',
  };
}

/**
 * The view of one deployer instance. `resolved` is `fullEnvironment` with references
 * resolved. (A split step hands over exactly the split it enforces through the executor's
 * view cache, which overrides one deployment's traffic on top of this view.)
 */
export function deployerView(
  resolved: Environment,
  recorded: RecordedState | null,
  instance: string,
  baseDir: string,
): DeployerEnvironment {
  const deployments: DeployerDeployment[] = [];
  for (const d of resolved.deployments) {
    if (d.deployer !== instance) continue;
    const revisions: DeployerRevision[] = d.revisions.map((r) => {
      const rec = recorded?.revisions[r.revision_id];
      return {
        ...r,
        lifecycle: rec?.lifecycle ?? 'inactive',
        outputs: rec?.outputs ?? {},
        endpoint: rec?.endpoint ?? null,
      };
    });
    deployments.push({ ...d, revisions });
  }
  return {
    schema: resolved.schema,
    environment_id: resolved.environment_id,
    deployers: { [instance]: resolved.deployers[instance] },
    deployments,
    notifications: [],
    base_dir: baseDir,
  };
}
