/** Validates each `deployers.X.config` against the JSON Schema its plugin declares. */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Environment } from '../model/environment.js';
import type { InputProblem } from '../model/errors.js';
import { sortProblems } from './analyze.js';
import { quote, type PathProblem } from './paths.js';
import { sourcePositions, type ParsedEnvironment } from './parse.js';
import { schemaProblems } from './schema-problems.js';
import { metaSchemaValidator } from './schema.js';

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

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

// Plugin schemas come from third parties: accept unknown keywords and formats rather than
// refusing a working plugin over an annotation.
// The meta-schema check ajv runs before compiling is done with the ahead-of-time compiled
// meta-schema validator when there is one: compiling the meta-schema took ~0.1 s per process.
const metaValidate = metaSchemaValidator();
const ajv = newConfigAjv({ verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

function newConfigAjv(extra: { verbose?: boolean; useDefaults?: boolean }): Ajv2020 {
  return new Ajv2020({
    allErrors: true,
    strict: false,
    logger: false,
    validateSchema: metaValidate === undefined,
    ...extra,
  });
}

function compileWith(target: Ajv2020, schema: Record<string, unknown>): ValidateFunction {
  // Many plugins declare draft-07; its keywords we use read the same under 2020-12,
  // but ajv would refuse the unknown meta-schema URI.
  const { $schema, ...rest } = schema;
  const effective = $schema === undefined || $schema === DRAFT_2020 ? schema : rest;
  // Same check and wording as ajv's own validateSchema.
  if (metaValidate && !metaValidate(effective))
    throw new Error(`schema is invalid: ${target.errorsText(metaValidate.errors)}`);
  return target.compile(effective);
}

function compile(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = compileWith(ajv, schema);
    compiled.set(schema, validate);
  }
  return validate;
}

const withDefaults = new WeakMap<object, ValidateFunction>();

/**
 * A plugin config schema compiled to fill in defaults (`useDefaults`), as deployers get their
 * config: checked against the meta-schema without compiling it, once per schema per process.
 */
export function compileConfigSchemaWithDefaults(schema: Record<string, unknown>): ValidateFunction {
  let validate = withDefaults.get(schema);
  if (!validate) {
    validate = compileWith(newConfigAjv({ useDefaults: true }), schema);
    withDefaults.set(schema, validate);
  }
  return validate;
}

/**
 * Validates each deployer instance named in `schemas` (instance name -> its plugin's
 * configSchema); returns the problems with positions, never throws for invalid configs.
 */
export function validateDeployerConfigs(
  parsed: ParsedEnvironment,
  schemas: Record<string, Record<string, unknown>>,
  checks: Record<string, EnvironmentCheck> = {},
): InputProblem[] {
  const pathProblems: PathProblem[] = [];
  for (const [name, schema] of Object.entries(schemas)) {
    const instance = parsed.env.deployers[name];
    if (!instance) continue;
    let validate: ValidateFunction;
    try {
      validate = compile(schema);
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
