/** The planner's public surface: `plan`, the outcome mutations the executor records, DAG helpers. */
export { plan, type PlanInput } from './planner.js';
export {
  mutationsOnStart,
  mutationsOnSuccess,
  mutationsOnFailure,
  type OutcomeContext,
  type StepResult,
} from './outcome.js';
export { validateDag, dagProblems, topologicalOrder, downstreamOf } from './dag.js';
export {
  VERB_RULES,
  transitionPath,
  isAllowedVerb,
  chainFor,
  type TargetLifecycle,
  type VerbRule,
} from './lifecycle.js';
export { changedSpecPaths, specOf } from './immutability.js';
export { sameRouting, sameSplitOrdered, weightOf } from './splits.js';
