/** The conformance bench (docs/design.md#conformance-bench): `bp conformance` and CI run every deployer through it. */
export type { CheckResult, CheckStatus, ConformanceOptions, ConformanceReport, FixtureOptions } from './types.js';
export { runConformance, checkNames, checkSummaries, CONFORMANCE_VERB_TIMEOUT_MS } from './runner.js';
export { renderHuman, renderJUnit, renderJson, renderCheck, renderFooter, summaryLine } from './render.js';
export { readConformanceConfig, checkDeployerConfig } from './config.js';
