/**
 * What each revision verb does to the recorded lifecycle, and which verbs take a revision
 * from its current lifecycle to the one the planner wants (the chains of the brief).
 */
import type { RevisionVerb } from '../model/plan.js';
import { canTransition, type LifecycleState } from '../model/state.js';

/** The lifecycle a revision should end in: what an operator can declare, after TTLs. */
export type TargetLifecycle = 'ready' | 'inactive' | 'archived';

export interface VerbRule {
  /** Lifecycles the verb may start from. */
  from: readonly LifecycleState[];
  /** Recorded while the verb runs, so an interrupted apply leaves a visible record. */
  intent: LifecycleState | null;
  to: LifecycleState;
}

export const VERB_RULES: Readonly<Record<RevisionVerb, VerbRule>> = {
  stage: { from: ['inactive', 'failed'], intent: null, to: 'staged' },
  warm: { from: ['staged', 'warming'], intent: 'warming', to: 'ready' },
  drain: { from: ['ready', 'draining'], intent: 'draining', to: 'inactive' },
  archive: { from: ['inactive', 'staged', 'warming', 'ready', 'failed'], intent: null, to: 'archived' },
};

/** The recorded lifecycles a verb walks through on success, e.g. warm: staged, warming, ready. */
export function transitionPath(verb: RevisionVerb, from: LifecycleState): LifecycleState[] {
  const rule = VERB_RULES[verb];
  const path: LifecycleState[] = [from];
  for (const s of [rule.intent, rule.to]) {
    if (s !== null && path[path.length - 1] !== s) path.push(s);
  }
  return path;
}

/** True when every hop of the verb's path is an allowed lifecycle transition. */
export function isAllowedVerb(verb: RevisionVerb, from: LifecycleState): boolean {
  if (!VERB_RULES[verb].from.includes(from)) return false;
  const path = transitionPath(verb, from);
  for (let i = 1; i < path.length; i++) if (!canTransition(path[i - 1], path[i])) return false;
  return true;
}

/**
 * Verbs, in execution order, from a current lifecycle to a target. `undefined` means the
 * target cannot be reached (an archived revision asked to come back).
 */
const CHAINS: Readonly<Record<TargetLifecycle, Partial<Record<LifecycleState, readonly RevisionVerb[]>>>> = {
  ready: {
    inactive: ['stage', 'warm'],
    staged: ['warm'],
    warming: ['warm'],
    failed: ['stage', 'warm'],
    // A drain must finish (draining -> inactive is the only way out) before restaging.
    draining: ['drain', 'stage', 'warm'],
    ready: [],
  },
  inactive: {
    inactive: [],
    staged: [],
    failed: [],
    ready: ['drain'],
    draining: ['drain'],
    // An interrupted warm is finished first so the drain can run the deployer's graceful path.
    warming: ['warm', 'drain'],
  },
  archived: {
    inactive: ['archive'],
    staged: ['archive'],
    failed: ['archive'],
    warming: ['archive'],
    ready: ['drain', 'archive'],
    draining: ['drain', 'archive'],
    archived: [],
  },
};

export function chainFor(current: LifecycleState, target: TargetLifecycle): readonly RevisionVerb[] | undefined {
  return CHAINS[target][current];
}
