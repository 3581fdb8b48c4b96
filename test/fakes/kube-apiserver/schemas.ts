/**
 * Request bodies checked against the official Kubernetes OpenAPI schemas, as the API server
 * decodes them (BEHAVIOUR.md, "Validation and defaults"): the `kubernetes-models` package
 * ships ajv validators generated from the upstream OpenAPI document. A value of the wrong type
 * or format (2.5 for an int32, "abc" for a quantity) is what the server's JSON decoder refuses:
 * 400 BadRequest "... cannot be handled as a Deployment". Gateway API kinds are CRDs whose
 * schemas kubernetes-models does not ship; their rules live in validation.ts.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { Obj } from './fields.js';
import { errors, type StatusCause } from './status.js';

interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const MODELS: Record<string, Model> = {
  'apps/v1 Deployment': Deployment as unknown as Model,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Model,
  'v1 Namespace': Namespace as unknown as Model,
  'v1 Pod': Pod as unknown as Model,
  'v1 Secret': Secret as unknown as Model,
  'v1 Service': Service as unknown as Model,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/spec/template/spec/containers/0/ports/0/containerPort` -> `spec.template.spec.containers[0].ports[0].containerPort`. */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((s) => s !== '')
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

/** Schema errors in `obj` (a complete object, after defaults are merged in), one per field. */
export function schemaCauses(apiVersion: string, kind: string, obj: Obj): StatusCause[] {
  const model = MODELS[`${apiVersion} ${kind}`];
  if (!model) return [];
  try {
    new model(structuredClone(obj) as never).validate();
    return [];
  } catch (e) {
    const list = ((e as { errors?: AjvError[] }).errors ?? []).filter(
      (x) => x.keyword !== 'oneOf' && x.keyword !== 'anyOf',
    );
    const seen = new Set<string>();
    const causes: StatusCause[] = [];
    for (const x of list) {
      const field = fieldOf(x.instancePath);
      const missing = x.keyword === 'required' ? String(x.params?.missingProperty) : undefined;
      const key = `${field}|${missing ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      causes.push(
        missing !== undefined
          ? { reason: 'FieldValueRequired', field: field ? `${field}.${missing}` : missing, message: 'Required value' }
          : {
              reason: 'FieldValueTypeInvalid',
              field,
              message: `Invalid value: ${JSON.stringify(valueAt(obj, x.instancePath))}: ${x.message ?? 'invalid'}`,
            },
      );
    }
    return causes;
  }
}

function valueAt(obj: unknown, instancePath: string): unknown {
  let cur: unknown = obj;
  for (const s of instancePath.split('/').filter((p) => p !== ''))
    cur = (cur as Record<string, unknown> | undefined)?.[s];
  return cur;
}

/**
 * What the API server's decoder does with a body of the wrong shape: type and format errors
 * are 400 BadRequest before any validation; a missing required field is 422 Invalid.
 */
export function checkSchema(apiVersion: string, kind: string, group: string, obj: Obj): void {
  const causes = schemaCauses(apiVersion, kind, obj);
  if (causes.length === 0) return;
  const decode = causes.filter((c) => c.reason === 'FieldValueTypeInvalid');
  const name = String((obj.metadata as Obj | undefined)?.name ?? '');
  if (decode.length > 0) {
    throw errors.badRequest(
      `${kind} in version "${apiVersion.split('/').pop()}" cannot be handled as a ${kind}: ` +
        decode.map((c) => `${c.field}: ${c.message}`).join('; '),
    );
  }
  throw errors.invalid(kind, group, name, causes);
}
