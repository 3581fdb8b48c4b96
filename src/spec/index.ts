/** The environment spec: env.yaml -> validated, normalized `Environment` (docs/design.md#environment-format). */
export { parseEnvironment, loadEnvironmentFile, type ParsedEnvironment } from './parse.js';
export { configValidatorWithDefaults, validateDeployerConfigs, type EnvironmentCheck } from './deployer-configs.js';
export {
  resolveEnvReferences,
  resolveReferences,
  findEnvReferences,
  findReferences,
  classifyReferences,
  envLookup,
  referenceKey,
  SECRET_STORES,
  secretWarnings,
  type EnvReferenceSite,
  type Lookup,
  type Reference,
  type SecretStoreKind,
} from './env-references.js';
export { environmentSchema, environmentSchemaPath } from './schema.js';
export { MAX_ALIAS_COUNT } from './yaml-source.js';
export type { JsonPath } from './paths.js';
