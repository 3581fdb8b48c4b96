/**
 * What a deployer module imports from bp, in one place: the plugin API's types
 * (`src/model/deployer.ts`), its error classes and the kit verbs every deployer starts with.
 * Built-in deployers import from here instead of reaching into model/ and kit/ files one by one.
 */
export type {
  Deployer,
  DeployerContext,
  DeployerDeployment,
  DeployerEnvironment,
  DeployerPlugin,
  DeployerRevision,
  EnvironmentProblem,
  Logger,
  Observation,
  ObservedRevision,
  SplitResult,
  StageResult,
  VerbOptions,
  WarmResult,
} from '../../model/deployer.js';
export { defineDeployer, DEPLOYER_API_VERSION } from '../../model/deployer.js';
export type { SplitEntry } from '../../model/environment.js';
export { AbortedError, ProviderError, RoutingNotReleasedError } from '../../model/errors.js';
export { sleep, throwIfAborted } from './abort.js';
export { keyedMutex } from './mutex.js';
export { waitOutDrain } from './progress.js';
export { beginRevisionVerb, beginSplitVerb, beginVerb } from './verb.js';
