/**
 * bp as a library: the plugin-author surface (errors, helpers, types) and the core calls.
 * Importing this module loads no deployer and no cloud SDK.
 */
export * from './model/index.js';
export { plan } from './plan/index.js';
/** The deployer kit (also the `bp/kit` subpath): waits, weights, provider errors, router updates. */
export * as kit from './deployers/kit/index.js';
export { checkPlugin, loadDeployerPlugin, builtInTypes } from './deployers/registry.js';
export { runConformance, renderHuman, renderJUnit, renderJson, checkNames } from './conformance/index.js';
export type { ConformanceOptions, ConformanceReport, CheckResult } from './conformance/index.js';
/** bp embedded in a service: load, plan, apply, destroy, state and runtime config (docs/api.md). */
export {
  loadEnvironment,
  planEnvironment,
  applyEnvironment,
  destroyEnvironment,
  readState,
  listEnvironments,
  readRuntimeConfig,
} from './api.js';
export type {
  BpOptions,
  LoadedEnvironment,
  LoadEnvironmentOptions,
  PlanOptions,
  ApplyOptions,
  ApplyReport,
  ApplyResult,
  StepOutcome,
  StreamLine,
} from './api.js';
export { OUTPUT_FORMATS, WEBHOOK_EVENT_TYPES, STREAM_EVENT_TYPES } from './model/output.js';
