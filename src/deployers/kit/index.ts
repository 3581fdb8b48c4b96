/**
 * The deployer kit: what every deployer (built-in or plugin) needs and should not write again.
 * Documented in docs/writing-a-deployer.md. Imported lazily by deployers only, never by the
 * CLI's fast paths.
 */
export { type Clock, sleep, systemClock, throwIfAborted } from './abort.js';
export {
  done,
  pending,
  type PollCheck,
  type PollOptions,
  type PollProgress,
  pollUntil,
  type PollUntilOptions,
  waitUntil,
} from './poll.js';
export { apportion, type ApportionOptions, enforcedAtGranularity, fromBps, toBps, toSplit } from './weights.js';
export {
  type Classifier,
  failureError,
  type FailureKind,
  isRetryableKind,
  parseRetryAfter,
  type ProviderCall,
  providerCall,
  providerCallOrNull,
  providerCalls,
  type ProviderFailure,
  toBpError,
} from './provider-errors.js';
export { SdkDeployer } from './sdk.js';
export { type CatalogSize, requireFit, smallestFit } from './catalog.js';
export {
  bearerGet,
  dockerRunArgs,
  envFileLines,
  scriptHead,
  shellQuote,
  tokenFunction,
  writeEnvFile,
} from './boot-script.js';
export {
  DRAIN_POLL_MS,
  entryUpdate,
  inFlight,
  refreshEntry,
  routedSplit,
  type RouterSite,
  splitConfig,
  waitForInFlight,
} from './router-fleet.js';
export { RoutingNotReleasedError } from '../../model/errors.js';
export { type Exclusive, keyedMutex } from './mutex.js';
export {
  COUNTDOWN_TICK_MS,
  replicaProgress,
  type ReplicaProgress,
  secondsLeft,
  timeLeftProgress,
  waitOutDrain,
} from './progress.js';
export { type DeployerCheck, type DeployerDeclaration, lazyDeployer, vmDeployer } from './lazy-deployer.js';
export { beginRevisionVerb, beginSplitVerb, beginVerb, type RevisionVerbName } from './verb.js';
export { type VmHealthWait, waitForHealthyVms } from './vm-health.js';
export {
  artifactPath,
  deploymentsOf,
  largestEnvPath,
  refusal,
  type RevisionSite,
  revisionsOf,
  readyRevisions,
  type VmRevisionChecks,
  vmEnvironmentProblems,
  vmRevisionProblems,
} from './env-checks.js';
export { checkImageReference, imageReferenceProblem, MAX_IMAGE_NAME_LENGTH } from './image-reference.js';
