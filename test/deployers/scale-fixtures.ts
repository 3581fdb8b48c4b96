/**
 * What the observe-at-scale tests share: 1,000 revisions in deployments of 5 (the first of each
 * taking all its traffic, one VM each), fakes that page every list by 5, and call counting.
 */
import type { Deployer, DeployerEnvironment, DeployerRevision, Observation } from '../../src/model/deployer.js';
import type { SplitEntry } from '../../src/model/environment.js';

export const REVISIONS = 1000;
export const PER_DEPLOYMENT = 5;
export const PAGE = 5;

export interface ScaleDeployment {
  id: string;
  revisions: string[];
}

export function scaleDeployments(): ScaleDeployment[] {
  return Array.from({ length: REVISIONS / PER_DEPLOYMENT }, (_, d) => ({
    id: `d${d}`,
    revisions: Array.from({ length: PER_DEPLOYMENT }, (_, r) => `d${d}-r${r}`),
  }));
}

/** The deployments as an environment builder takes them, from a fixture's revision builder. */
export function scaleDeclarations(
  deployments: ScaleDeployment[],
  revision: (id: string, over: Partial<DeployerRevision>) => DeployerRevision,
): Array<{ id: string; revisions: DeployerRevision[]; traffic: SplitEntry[] }> {
  return deployments.map((d) => ({
    id: d.id,
    revisions: d.revisions.map((r) => revision(r, { resources: { cpu: 0.5, memory_mb: 512, replicas: 1, gpu: 0 } })),
    traffic: [{ revision_id: d.revisions[0], weight_bps: 10000 }],
  }));
}

/** How many list calls `items` take at the fakes' page size. */
export const pages = (items: number): number => Math.ceil(items / PAGE);

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/**
 * Seeds the scale deployments into a fake (`seed`), observes them as `environment` declares them,
 * and returns the observation with the journal entries that observe alone added.
 */
export async function observeSeeded<J>(
  deployer: Deployer,
  journal: readonly J[],
  seed: (deployments: ScaleDeployment[]) => void,
  environment: (deployments: ScaleDeployment[]) => DeployerEnvironment,
): Promise<{ deployments: ScaleDeployment[]; seen: Observation; calls: J[] }> {
  const deployments = scaleDeployments();
  seed(deployments);
  const env = environment(deployments);
  const mark = journal.length;
  const seen = await deployer.observe(env, { signal: new AbortController().signal });
  return { deployments, seen, calls: journal.slice(mark) };
}
