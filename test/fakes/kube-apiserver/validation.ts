/**
 * The validation the real apiserver applies that a deployer can get wrong (BEHAVIOUR.md,
 * "Validation and defaults"): the OpenAPI schema (schemas.ts), object names, label keys and
 * values, a Deployment's selector matching its template (and never changing), ports, env var
 * names, duplicate keys of associative lists, quantities (request <= limit), HPA bounds, and
 * the Gateway API's CRD rules for HTTPRoute.
 */
import { matchesMap } from './selectors.js';
import type { ResourceType } from './resources.js';
import { errors, type StatusCause } from './status.js';
import { isPlainObject, type Obj } from './fields.js';
import { checkSchema } from './schemas.js';
import { apiVersionOf } from './resources.js';
import { listMapCauses, specCauses } from './rules.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function nameCauses(t: ResourceType, name: string): StatusCause[] {
  if (t.kind === 'Service') {
    if (name.length > 63 || !DNS1035_LABEL.test(name)) {
      return [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.name',
          message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
        },
      ];
    }
    return [];
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return [
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      },
    ];
  }
  return [];
}

function labelCauses(field: string, labels: unknown): StatusCause[] {
  if (!isPlainObject(labels)) return [];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const [prefix, name] = k.includes('/') ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] : ['', k];
    if ((prefix && !DNS1123_SUBDOMAIN.test(prefix)) || name.length > 63 || !LABEL_NAME.test(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    }
  }
  return causes;
}

/** Throws 422 Invalid with every cause found; `before` is the live object on updates. */
export function validate(t: ResourceType, obj: Obj, before: Obj | undefined): void {
  checkSchema(apiVersionOf(t), t.kind, t.group, obj);
  const meta = obj.metadata as Obj;
  const name = String(meta.name ?? '');
  const causes = [
    ...nameCauses(t, name),
    ...labelCauses('metadata.labels', meta.labels),
    ...listMapCauses(t, obj),
    ...specCauses(t, obj),
  ];
  if (t.kind === 'Secret') causes.push(...secretCauses(obj, before));
  if (t.kind === 'Deployment') {
    const spec = (obj.spec ?? {}) as Obj;
    const selector = (spec.selector as Obj | undefined)?.matchLabels as Record<string, string> | undefined;
    const templateLabels = ((spec.template as Obj | undefined)?.metadata as Obj | undefined)?.labels as
      Record<string, string> | undefined;
    causes.push(...labelCauses('spec.template.metadata.labels', templateLabels));
    if (!selector || Object.keys(selector).length === 0) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    } else if (!matchesMap(selector, templateLabels)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${JSON.stringify(templateLabels ?? {})}: \`selector\` does not match template \`labels\``,
      });
    }
    const old = (before?.spec as Obj | undefined)?.selector as Obj | undefined;
    if (old && JSON.stringify(old) !== JSON.stringify(spec.selector)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.selector',
        message: `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable`,
      });
    }
    const containers = ((spec.template as Obj | undefined)?.spec as Obj | undefined)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' });
    }
  }
  if (causes.length > 0) throw errors.invalid(t.kind, t.group, name, causes);
}

export const DNS_LABEL = DNS1123_LABEL;

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * ValidateSecret and ValidateSecretUpdate: keys are config keys, values base64, the whole at most
 * 1 MiB; once `immutable: true` is stored, data and immutable itself can no longer change.
 */
function secretCauses(o: Obj, before: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const data = isPlainObject(o.data) ? o.data : {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (!SECRET_KEY.test(k) || k.length > 253)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `data[${k}]`,
        message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    if (typeof v !== 'string' || !BASE64.test(v))
      causes.push({ reason: 'FieldValueInvalid', field: `data[${k}]`, message: 'illegal base64 data' });
    size += Buffer.from(String(v), 'base64').length;
  }
  if (size > 1024 * 1024)
    causes.push({ reason: 'FieldValueTooLong', field: 'data', message: 'Too long: must have at most 1048576 bytes' });
  if (before && before.immutable === true) {
    if (o.immutable !== true)
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'immutable',
        message: 'Forbidden: field is immutable when `immutable` is set',
      });
    if (canonical(before.data) !== canonical(o.data))
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'data',
        message: 'Forbidden: field is immutable when `immutable` is set',
      });
  }
  if (before && before.type !== o.type)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'type',
      message: `Invalid value: "${String(o.type)}": field is immutable`,
    });
  return causes;
}

function canonical(data: unknown): string {
  return JSON.stringify(Object.entries(isPlainObject(data) ? data : {}).sort(([a], [b]) => a.localeCompare(b)));
}
