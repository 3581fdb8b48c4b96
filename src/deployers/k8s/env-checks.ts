/**
 * What the k8s deployer refuses in an env file before anything reaches a cluster, with the
 * path of the offending value so `bp validate` reports FILE:LINE:COL. Pure: the same rules run
 * at validate (the plugin's `checkEnvironment`) and again inside the verbs, for callers (the
 * conformance bench, plugins' own tests) that never ran validate. See
 * docs/deployers/kubernetes.md, "What validate refuses".
 */
import type { Environment } from '../../model/environment.js';
import { objectName } from './names.js';
import { settingsFrom, type K8sConfig, type K8sSettings } from './settings.js';

export interface EnvProblem {
  path: Array<string | number>;
  message: string;
  at?: 'key' | 'value';
}

/** Environment variables bp sets in every container itself. */
export const BP_ENV_VARS = ['PORT'] as const;

/** What the API server accepts as an environment variable name (C identifiers plus `-` and `.`). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The parts of an environment these rules read (env.yaml's shape, or a deployer's view of it). */
type EnvLike = Pick<Environment, 'environment_id'> & { deployments: Environment['deployments'] };

export function checkK8sEnvironment(config: K8sConfig, env: EnvLike, instance: string): EnvProblem[] {
  return environmentProblems(settingsFrom(config ?? {}), env, instance);
}

/**
 * `routes: false` leaves out route conflicts between deployments: the verbs skip them, so the
 * conformance bench (deployments made up per check, no routes configured) still runs in
 * gateway-api mode; `bp validate`, `plan` and `apply` refuse them.
 */
export function environmentProblems(
  settings: K8sSettings,
  env: EnvLike,
  instance: string,
  routes = true,
): EnvProblem[] {
  const problems: EnvProblem[] = [];
  const mine = env.deployments.map((d, i) => ({ d, i })).filter(({ d }) => d.deployer === instance);
  problems.push(...nameCollisions(env.environment_id, mine));
  for (const { d, i } of mine) {
    d.revisions.forEach((r, j) => {
      const base = ['deployments', i, 'revisions', j];
      for (const name of Object.keys(r.artifact?.env ?? {})) {
        if ((BP_ENV_VARS as readonly string[]).includes(name)) {
          problems.push({
            path: [...base, 'artifact', 'env', name],
            at: 'key',
            message:
              `revision "${r.revision_id}" sets ${name}, which the k8s deployer sets itself (the container port, ` +
              `container_port in the deployer config): remove it, or set container_port`,
          });
        } else if (!ENV_NAME.test(name)) {
          problems.push({
            path: [...base, 'artifact', 'env', name],
            at: 'key',
            message:
              `"${name}" is not a valid environment variable name for Kubernetes (letters, digits, "_", "-", "." ` +
              'and not starting with a digit)',
          });
        }
      }
      if (r.artifact && r.artifact.image === undefined) {
        problems.push({
          path: [...base, 'artifact'],
          message: `revision "${r.revision_id}" has no artifact.image; the k8s deployer runs container images`,
        });
      }
      if (settings.traffic === 'replicas' && r.resources?.max_replicas !== undefined) {
        problems.push({
          path: [...base, 'resources', 'max_replicas'],
          message:
            `revision "${r.revision_id}" declares max_replicas, but deployer "${instance}" uses traffic: replicas, ` +
            'where pod counts are the weights and an autoscaler would change them; use traffic: gateway-api to ' +
            'autoscale, or remove max_replicas',
        });
      }
    });
  }
  if (routes) problems.push(...routeProblems(settings, mine, instance));
  return problems;
}

/** Object names are `<environment>-<id>`: a revision and a deployment (or two ids) may not share one. */
function nameCollisions(
  environmentId: string,
  mine: Array<{ d: Environment['deployments'][number]; i: number }>,
): EnvProblem[] {
  const problems: EnvProblem[] = [];
  const taken = new Map<string, string>();
  for (const { d } of mine) taken.set(objectName(environmentId, d.deployment_id), `deployment "${d.deployment_id}"`);
  for (const { d, i } of mine) {
    d.revisions.forEach((r, j) => {
      const name = objectName(environmentId, r.revision_id);
      const other = taken.get(name);
      if (other !== undefined) {
        problems.push({
          path: ['deployments', i, 'revisions', j, 'revision_id'],
          message:
            `revision "${r.revision_id}" would get the Kubernetes name "${name}", which ${other} already uses ` +
            '(its stable Service or HTTPRoute); choose a revision id that differs from every deployment id',
        });
      } else {
        taken.set(name, `revision "${r.revision_id}"`);
      }
    });
  }
  return problems;
}

/** gateway-api mode: two deployments on one Gateway may not claim the same hostname and path. */
function routeProblems(
  settings: K8sSettings,
  mine: Array<{ d: Environment['deployments'][number]; i: number }>,
  instance: string,
): EnvProblem[] {
  const problems: EnvProblem[] = [];
  const ids = new Set(mine.map(({ d }) => d.deployment_id));
  for (const id of Object.keys(settings.routes)) {
    if (!ids.has(id)) {
      problems.push({
        path: ['deployers', instance, 'config', 'routes', id],
        at: 'key',
        message: `routes names deployment "${id}", which does not use deployer "${instance}"`,
      });
    }
  }
  if (settings.traffic !== 'gateway-api') return problems;
  const claimed: Array<{ id: string; hostnames: string[]; path: string }> = [];
  for (const { d } of mine) {
    const m = routeMatchOf(settings, d.deployment_id);
    const clash = claimed.find((c) => c.path === m.path && hostnamesOverlap(c.hostnames, m.hostnames));
    if (clash) {
      const where = settings.routes[d.deployment_id] ? ['routes', d.deployment_id] : ['traffic'];
      const hosts = m.hostnames.length > 0 ? m.hostnames.join(', ') : 'every hostname';
      problems.push({
        path: ['deployers', instance, 'config', ...where],
        message:
          `deployments "${clash.id}" and "${d.deployment_id}" both match ${hosts} path ${m.path} on deployer ` +
          `"${instance}" (a Gateway sends such requests to the older route only); give each its own ` +
          `routes.<deployment>.hostnames or path_prefix`,
      });
    }
    claimed.push({ id: d.deployment_id, ...m });
  }
  return problems;
}

export function routeMatchOf(settings: K8sSettings, deploymentId: string): { hostnames: string[]; path: string } {
  const own = settings.routes[deploymentId];
  // Gateway API PathPrefix ignores a trailing slash: /api and /api/ are one match.
  const path = (own?.path_prefix ?? '/').replace(/(.)\/+$/, '$1');
  return { hostnames: own?.hostnames ?? settings.hostnames, path };
}

/** No hostnames means every hostname; `*.example.com` matches one or more labels before example.com. */
export function hostnamesOverlap(a: string[], b: string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  const covers = (pattern: string, host: string) =>
    pattern === host || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));
  return a.some((x) => b.some((y) => covers(x, y) || covers(y, x)));
}
