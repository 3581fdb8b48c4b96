/** Validates each `deployers.X.config` against the JSON Schema its plugin declares. */
import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { Environment } from '../model/environment.js';
import type { InputProblem } from '../model/errors.js';
import { sortProblems } from './analyze.js';
import { quote, type PathProblem } from './paths.js';
import { sourcePositions, type ParsedEnvironment } from './parse.js';
import { schemaProblems } from './schema-problems.js';
import { metaSchemaValidator } from './schema.js';
import { CONFIG_AJV_OPTIONS, configSchemaForAjv, type ConfigValidatorKind, objectDigest } from './schema-options.js';

/** A plugin's `checkEnvironment`: rules beyond its config schema (see model/deployer.ts). */
export type EnvironmentCheck = (config: never, env: Environment, instance: string) => PathProblem[];

function environmentProblems(
  parsed: ParsedEnvironment,
  name: string,
  check: EnvironmentCheck | undefined,
): PathProblem[] {
  if (!check) return [];
  try {
    return (check as (c: unknown, e: Environment, i: string) => PathProblem[])(
      parsed.env.deployers[name].config,
      parsed.env,
      name,
    );
  } catch (e) {
    return [
      {
        path: ['deployers', name, 'type'],
        message: `deployer ${quote(name)} failed to check the environment: ${e instanceof Error ? e.message : String(e)}`,
      },
    ];
  }
}

type GeneratedModule = Record<ConfigValidatorKind, ValidateFunction>;

/** Each schema's validators, generated or compiled, once per schema per process. */
const compiled: Record<ConfigValidatorKind, WeakMap<object, ValidateFunction>> = {
  check: new WeakMap(),
  defaults: new WeakMap(),
};
/** Each schema's lookup among the generated validators (resolving to whether one was found): digested once. */
const lookups = new WeakMap<object, Promise<boolean>>();

async function lookUp(schema: Record<string, unknown>): Promise<boolean> {
  const load = generated[objectDigest(schema)];
  if (!load) return false;
  const m = await load();
  compiled.check.set(schema, m.check);
  compiled.defaults.set(schema, m.defaults);
  return true;
}

/**
 * Loaders of the built-in deployers' config validators compiled ahead of time
 * (validator-codegen.ts), by schema digest; empty in a tree that has not generated them.
 */
const generated: Record<string, () => Promise<GeneratedModule>> =
  await import('./config-validators/index.generated.js').then(
    (m) => (m as unknown as { CONFIG_VALIDATORS: Record<string, () => Promise<GeneratedModule>> }).CONFIG_VALIDATORS,
    (e: NodeJS.ErrnoException) => {
      if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('config-validators')) return {};
      throw e;
    },
  );

/**
 * Loads the generated validators made from exactly these schemas' content, where there are any,
 * so that validating with them needs neither ajv nor a compile. Returns how many it found.
 */
export async function loadGeneratedConfigValidators(schemas: Iterable<Record<string, unknown>>): Promise<number> {
  const found = [...schemas].map((schema) => {
    let lookup = lookups.get(schema);
    if (!lookup) lookups.set(schema, (lookup = lookUp(schema)));
    return lookup;
  });
  return (await Promise.all(found)).filter(Boolean).length;
}

// The meta-schema check ajv runs before compiling is done with the ahead-of-time compiled
// meta-schema validator when there is one: compiling the meta-schema took ~0.1 s per process.
const metaValidate = metaSchemaValidator();
let compilers: Record<ConfigValidatorKind, Ajv2020> | undefined;

/**
 * A schema no generated validator was made from (a plugin's, or a built-in's edited without
 * regenerating) is compiled here. ajv is loaded only then, synchronously (it is CommonJS):
 * loading it cost `bp plan` on built-in deployers ~60 ms.
 */
function compileAtRunTime(kind: ConfigValidatorKind, schema: Record<string, unknown>): ValidateFunction {
  if (!compilers) {
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const make = (k: ConfigValidatorKind) =>
      new Ajv2020({ ...CONFIG_AJV_OPTIONS[k], validateSchema: metaValidate === undefined });
    compilers = { check: make('check'), defaults: make('defaults') };
  }
  const effective = configSchemaForAjv(schema);
  // Same check and wording as ajv's own validateSchema.
  if (metaValidate && !metaValidate(effective))
    throw new Error(`schema is invalid: ${compilers[kind].errorsText(metaValidate.errors)}`);
  return compilers[kind].compile(effective);
}

/** The validator of `schema`: the generated one when made from this very schema, else compiled now; once per schema. */
function configValidator(kind: ConfigValidatorKind, schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled[kind].get(schema);
  if (!validate) {
    validate = compileAtRunTime(kind, schema);
    compiled[kind].set(schema, validate);
  }
  return validate;
}

/**
 * A plugin config schema compiled to fill in defaults (`useDefaults`), as deployers get their
 * config: the generated validator for a built-in schema, else checked against the meta-schema
 * and compiled, once per schema per process.
 */
export async function configValidatorWithDefaults(schema: Record<string, unknown>): Promise<ValidateFunction> {
  await loadGeneratedConfigValidators([schema]);
  return configValidator('defaults', schema);
}

/**
 * Validates each deployer instance named in `schemas` (instance name -> its plugin's
 * configSchema); returns the problems with positions, never throws for invalid configs.
 */
export async function validateDeployerConfigs(
  parsed: ParsedEnvironment,
  schemas: Record<string, Record<string, unknown>>,
  checks: Record<string, EnvironmentCheck> = {},
): Promise<InputProblem[]> {
  await loadGeneratedConfigValidators(Object.values(schemas));
  const pathProblems: PathProblem[] = [];
  for (const [name, schema] of Object.entries(schemas)) {
    const instance = parsed.env.deployers[name];
    if (!instance) continue;
    let validate: ValidateFunction;
    try {
      validate = configValidator('check', schema);
    } catch (e) {
      pathProblems.push({
        path: ['deployers', name, 'type'],
        message: `deployer ${quote(name)} (type ${quote(instance.type)}) has a config schema that cannot be compiled: ${e instanceof Error ? e.message : String(e)}`,
      });
      continue;
    }
    if (validate(instance.config)) {
      pathProblems.push(...environmentProblems(parsed, name, checks[name]));
      continue;
    }
    pathProblems.push(
      ...schemaProblems(validate.errors ?? [], {
        root: parsed.env,
        data: instance.config,
        basePath: ['deployers', name, 'config'],
      }),
    );
  }
  if (pathProblems.length === 0) return [];
  const positions = sourcePositions(parsed);
  const problems = pathProblems.map((p) =>
    positions ? positions.problem(p) : { ...parsed.locate(p.path), message: p.message },
  );
  return sortProblems(problems);
}
