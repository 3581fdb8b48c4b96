/**
 * The wire shape of a request body as the resource provider deserializes it, and the check of a
 * PUT/PATCH body against it. The shapes come from the SDKs' own models (mapper-schema.ts for the
 * classic `@azure/arm-network` / `@azure/arm-trafficmanager` mappers, compute-schema.ts for the
 * generated `@azure/arm-compute` deserializers, with compute-leaf-types.ts laying the leaf types
 * of the SDK's published `.d.ts` models over them), so the fake refuses what those models do not
 * describe. The errors follow what ARM and the resource providers answer (BEHAVIOUR.md, "Request
 * validation"): the providers deserialize with Json.NET, so unknown members and values of the
 * wrong kind are "Could not find member" / "Error converting value" / "Could not convert string to
 * ..." failures, and primitives are converted as Json.NET's reader converts them (a number is accepted for a
 * string member, "5" for a number, 1 or "True" for a boolean), the converted value being kept.
 */
import { ArmError, type Json } from './store.js';

export interface Constraints {
  MaxLength?: number;
  MinLength?: number;
  Pattern?: string | RegExp;
  InclusiveMaximum?: number;
  InclusiveMinimum?: number;
  ExclusiveMaximum?: number;
  ExclusiveMinimum?: number;
  MaxItems?: number;
  MinItems?: number;
  UniqueItems?: boolean;
}

export interface WireField {
  type: WireType;
  /** Returned by GET, ignored in a PUT body (the GET-modify-PUT round trip carries it). */
  readOnly?: boolean;
  /**
   * Missing or null is refused: `true` as Json.NET refuses a required member (mappers), `'parameter'`
   * as the Compute provider refuses a required parameter (400 InvalidParameter; declared without `?`).
   */
  required?: boolean | 'parameter';
  constraints?: Constraints;
}

export type WireType =
  | { kind: 'String' | 'Number' | 'Boolean' | 'DateTime' | 'Primitive' | 'any' }
  | { kind: 'Enum'; allowed: string[]; name?: string }
  | { kind: 'Composite'; className: string; fields: Map<string, WireField> }
  | { kind: 'Sequence'; element: WireField }
  | { kind: 'Dictionary'; value: WireField };

export type Composite = Extract<WireType, { kind: 'Composite' }>;

/** Which answer a refusal takes: ARM's own envelope check, or the resource provider's deserializer. */
type Refusal = (path: string, message: string) => ArmError;

/** ARM front door: a top-level member that is not part of the resource definition. */
const envelope: Refusal = (_path, message) =>
  new ArmError(
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: '${message}'.`,
  );

/** Compute and Network resource providers: 400 InvalidRequestFormat with an InvalidJson detail. */
const provider: Refusal = (_path, message) =>
  new ArmError(400, 'InvalidRequestFormat', 'Cannot parse the request.', {}, [{ code: 'InvalidJson', message }]);

/** A constraint the model states (MaxLength, Pattern, InclusiveMaximum ...). */
const invalidParameter = (path: string, message: string) =>
  new ArmError(400, 'InvalidParameter', `The value of parameter '${path}' is invalid: ${message}.`);

/** Compute: a required member (declared without `?`), named by its parent and itself (`osDisk.createOption`). */
const missingParameter = (path: string) => {
  const target = path.split('.').slice(-2).join('.');
  return new ArmError(400, 'InvalidParameter', `Required parameter '${target}' is missing (null).`, {}, [], target);
};

/** Json.NET's name for the token a value starts with (its reader's "Unexpected token" errors). */
const token = (v: unknown) =>
  Array.isArray(v)
    ? 'StartArray'
    : typeof v === 'object'
      ? 'StartObject'
      : typeof v === 'boolean'
        ? 'Boolean'
        : typeof v === 'number'
          ? Number.isInteger(v)
            ? 'Integer'
            : 'Float'
          : 'String';

const typeName = (t: WireType): string =>
  t.kind === 'Composite'
    ? t.className
    : t.kind === 'Sequence'
      ? `List<${typeName(t.element.type)}>`
      : t.kind === 'Dictionary'
        ? `Dictionary<String, ${typeName(t.value.type)}>`
        : t.kind === 'Enum'
          ? (t.name ?? 'Enum')
          : t.kind;

/** A number as Json.NET's invariant-culture parse reads it from a string. */
const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * Checks `body` against the resource's composite type and returns it with read-only members
 * removed (the providers ignore them). Throws the ArmError the service answers.
 */
export function checkBody(body: Json, root: Composite): Json {
  return checkComposite(body, root, '', true) as Json;
}

function checkComposite(value: unknown, t: Composite, path: string, top = false): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw provider(path, `Error converting value ${show(value)} to type '${t.className}'. Path '${path}'.`);
  }
  const out: Json = {};
  for (const [key, member] of Object.entries(value as Json)) {
    const field = [...t.fields].find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1];
    const at = join(path, key);
    if (!field) {
      const owner = top ? 'ResourceDefinition' : t.className;
      const message = `Could not find member '${key}' on object of type '${owner}'. Path '${at}'.`;
      throw (top ? envelope : provider)(at, message);
    }
    if (member === null || member === undefined || field.readOnly) continue;
    out[key] = checkValue(member, field, at);
  }
  for (const [name, field] of t.fields) {
    if (!field.required || field.readOnly || Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase()))
      continue;
    if (field.required === 'parameter') throw missingParameter(join(path, name));
    throw provider(join(path, name), `Required property '${name}' not found in JSON. Path '${path}'.`);
  }
  return out;
}

function checkValue(value: unknown, field: WireField, path: string): unknown {
  const t = field.type;
  const wrong = () => provider(path, `Error converting value ${show(value)} to type '${typeName(t)}'. Path '${path}'.`);
  /** Json.NET's reader, reading the value as the member's type (JsonReader.ReadAsBoolean). */
  const reader = (message: string) => provider(path, `${message} Path '${path}'.`);
  const primitive = typeof value !== 'object';
  switch (t.kind) {
    case 'any':
      return value;
    case 'Composite':
      return checkComposite(value, t, path);
    case 'Sequence': {
      if (!Array.isArray(value)) throw wrong();
      constrain(value, field.constraints, path);
      return value.map((v, i) => (v === null ? v : checkValue(v, t.element, `${path}[${i}]`)));
    }
    case 'Dictionary': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrong();
      return Object.fromEntries(
        Object.entries(value as Json).map(([k, v]) => [k, v === null ? v : checkValue(v, t.value, join(path, k))]),
      );
    }
    case 'Number':
      // Int32, Int64 or Double: neither the mappers nor the .d.ts models tell them apart. Json.NET
      // reads a JSON number, or a string that parses as one ("5" → 5), for each of them.
      if (!(typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value)))) throw wrong();
      constrain(Number(value), field.constraints, path);
      return Number(value);
    case 'Boolean':
      // Json.NET's ReadAsBoolean: a number is Convert.ToBoolean'd, a string bool.TryParse'd.
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      if (typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value))
        return value.trim().toLowerCase() === 'true';
      if (typeof value === 'string') throw reader(`Could not convert string to boolean: ${value}.`);
      throw reader(`Error reading boolean. Unexpected token: ${token(value)}.`);
    case 'Enum':
      if (typeof value !== 'string' || !t.allowed.some((a) => a.toLowerCase() === value.toLowerCase())) throw wrong();
      return value;
    case 'DateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw wrong();
      return value;
    default:
      // String and the compute model's untyped primitives: Json.NET turns any primitive into a string.
      if (!primitive) throw wrong();
      if (t.kind !== 'String') return value;
      constrain(String(value), field.constraints, path);
      return String(value);
  }
}

function constrain(value: string | number | unknown[], c: Constraints | undefined, path: string): void {
  if (!c) return;
  const fail = (what: string) => {
    throw invalidParameter(path, what);
  };
  if (typeof value === 'number') {
    if (c.InclusiveMaximum !== undefined && value > c.InclusiveMaximum) fail(`at most ${c.InclusiveMaximum}`);
    if (c.InclusiveMinimum !== undefined && value < c.InclusiveMinimum) fail(`at least ${c.InclusiveMinimum}`);
    if (c.ExclusiveMaximum !== undefined && value >= c.ExclusiveMaximum) fail(`below ${c.ExclusiveMaximum}`);
    if (c.ExclusiveMinimum !== undefined && value <= c.ExclusiveMinimum) fail(`above ${c.ExclusiveMinimum}`);
    return;
  }
  if (c.MaxLength !== undefined && value.length > c.MaxLength) fail(`longer than ${c.MaxLength}`);
  if (c.MinLength !== undefined && value.length < c.MinLength) fail(`shorter than ${c.MinLength}`);
  if (c.MaxItems !== undefined && value.length > c.MaxItems) fail(`more than ${c.MaxItems} items`);
  if (c.MinItems !== undefined && value.length < c.MinItems) fail(`fewer than ${c.MinItems} items`);
  if (c.UniqueItems && Array.isArray(value) && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
    fail('items are not unique');
  if (c.Pattern !== undefined && typeof value === 'string' && !new RegExp(c.Pattern).test(value))
    fail(`does not match ${String(c.Pattern)}`);
}
