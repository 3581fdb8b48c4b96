/**
 * The preamble every verb starts with, in this order and before any provider call: the
 * revision or split is looked up and checked (RevisionNotFound, SplitNotFound, InvalidSplit),
 * then an interrupt already delivered ends the verb (Aborted). A deployer that starts its
 * verbs with these cannot half-do a verb it was never allowed to start.
 */
import {
  type DeployerDeployment,
  type DeployerEnvironment,
  type DeployerRevision,
  enforceSplitInvariants,
  requireRevision,
  type VerbOptions,
} from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { throwIfAborted } from './abort.js';

export type RevisionVerbName = 'staging' | 'warming' | 'draining' | 'archiving';

/** Starts a revision verb: the revision and its deployment, or RevisionNotFound / Aborted. */
export function beginRevisionVerb(
  env: DeployerEnvironment,
  revisionId: string,
  opts: VerbOptions,
  verb: RevisionVerbName,
): { deployment: DeployerDeployment; revision: DeployerRevision } {
  const found = requireRevision(env, revisionId);
  throwIfAborted(opts.signal, `${verb} "${revisionId}"`);
  return found;
}

/** Starts apply_traffic_split: the deployment and its proven split, or SplitNotFound / InvalidSplit / Aborted. */
export function beginSplitVerb(
  env: DeployerEnvironment,
  deploymentId: string,
  opts: VerbOptions,
): { deployment: DeployerDeployment; entries: SplitEntry[] } {
  const found = enforceSplitInvariants(env, deploymentId);
  throwIfAborted(opts.signal, `applying the split of "${deploymentId}"`);
  return found;
}

/** Starts a verb without a target (observe, scrapeMetrics): Aborted when interrupted already. */
export function beginVerb(opts: VerbOptions, what: string): void {
  throwIfAborted(opts.signal, what);
}
