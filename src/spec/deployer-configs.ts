/** Validates each `deployers.X.config` against the JSON Schema its plugin declares. */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { InputProblem } from '../model/errors.js';
import { positionProblem, sortProblems } from './analyze.js';
import { quote, type PathProblem } from './paths.js';
import { sourceOf, type ParsedEnvironment } from './parse.js';
import { schemaProblems } from './schema-problems.js';

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

// Plugin schemas come from third parties: accept unknown keywords and formats rather than
// refusing a working plugin over an annotation.
const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, logger: false });
const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    // Many plugins declare draft-07; its keywords we use read the same under 2020-12,
    // but ajv would refuse the unknown meta-schema URI.
    const { $schema, ...rest } = schema;
    validate = ajv.compile($schema === undefined || $schema === DRAFT_2020 ? schema : rest);
    compiled.set(schema, validate);
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
    if (validate(instance.config)) continue;
    pathProblems.push(
      ...schemaProblems(validate.errors ?? [], { root: parsed.env, data: instance.config, basePath: ['deployers', name, 'config'] }),
    );
  }
  if (pathProblems.length === 0) return [];
  const source = sourceOf(parsed);
  const problems = pathProblems.map((p) => {
    if (source) return positionProblem(p, source, parsed.file);
    return { ...parsed.locate(p.path), message: p.message };
  });
  return sortProblems(problems);
}
