/**
 * Request bodies checked against the published Compute Engine v1 model that ships inside
 * `@google-cloud/compute`: the message definitions of `build/protos/protos.json` (field names
 * as the REST transport spells them, types, repeated and map fields) and, for the many string
 * fields that are enums on the wire, the `Check the X enum for the list of possible values`
 * comments of `compute.proto` beside it (protos.json drops comments). The answers copy the
 * API's JSON-parsing errors (BEHAVIOUR.md, "Request validation").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ApiError } from './store.js';

interface FieldDef {
  type: string;
  rule?: 'repeated';
  keyType?: string;
}

interface MessageDef {
  fields: Record<string, FieldDef>;
  nested?: Record<string, { values?: Record<string, number>; fields?: unknown }>;
}

interface Model {
  messages: Record<string, MessageDef>;
  /** message -> JSON field name -> { enum name, proto (snake_case) field name } */
  enums: Map<string, Map<string, string>>;
  /** message -> JSON field name -> proto field name (for error paths, as the API prints them). */
  protoNames: Map<string, Map<string, string>>;
}

let model: Model | null = null;

function protosDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@google-cloud/compute/package.json')), 'build', 'protos');
}

/** protobufjs' field-name conversion: what the REST transport puts on the wire. */
const jsonName = (proto: string) => proto.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());

/** Loads the model once per process (about 0.2 s: protos.json is 11 MB and holds v1beta too). */
export function computeModel(): Model {
  if (model) return model;
  const dir = protosDir();
  const root = JSON.parse(readFileSync(join(dir, 'protos.json'), 'utf8')) as {
    nested: Record<string, { nested: Record<string, unknown> }>;
  };
  const v1 = (root.nested.google.nested.cloud as { nested: { compute: { nested: { v1: { nested: unknown } } } } })
    .nested.compute.nested.v1.nested as Record<string, MessageDef>;
  const enums = new Map<string, Map<string, string>>();
  const protoNames = new Map<string, Map<string, string>>();
  // One pass over compute.proto: the enclosing message of each field, its proto name, and the
  // enum its comment names.
  const source = readFileSync(join(dir, 'google', 'cloud', 'compute', 'v1', 'compute.proto'), 'utf8');
  const stack: string[] = [];
  let pendingEnum: string | null = null;
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('//')) {
      const m = /Check the (\w+) enum for the list of possible values/.exec(line);
      if (m) pendingEnum = m[1];
      continue;
    }
    let m = /^(message|enum|oneof) (\w+) \{/.exec(line);
    if (m) {
      stack.push(m[2]);
      continue;
    }
    if (line === '}') {
      stack.pop();
      continue;
    }
    m = /^(?:optional |repeated )?(?:map<[^>]+>|[\w.]+) (\w+) = \d+/.exec(line);
    if (m && stack.length === 1) {
      const message = stack[0];
      const names = protoNames.get(message) ?? new Map<string, string>();
      protoNames.set(message, names);
      names.set(jsonName(m[1]), m[1]);
      if (pendingEnum) {
        const e = enums.get(message) ?? new Map<string, string>();
        enums.set(message, e);
        e.set(jsonName(m[1]), pendingEnum);
      }
    }
    if (line !== '') pendingEnum = null;
  }
  model = { messages: v1, enums, protoNames };
  return model;
}

const INTEGER = /^-?\d+$/;

function invalidValue(path: string, kind: string, value: unknown): ApiError {
  return new ApiError(400, 'invalid', `Invalid value at '${path}' (${kind}), ${JSON.stringify(value)}`, {
    status: 'INVALID_ARGUMENT',
    field: path,
  });
}

function unknownName(name: string, path: string): ApiError {
  return new ApiError(
    400,
    'invalid',
    `Invalid JSON payload received. Unknown name "${name}" at '${path}': Cannot find field.`,
    { status: 'INVALID_ARGUMENT', field: path },
  );
}

/** Checks one scalar against its proto3 JSON mapping (https://protobuf.dev/programming-guides/json/). */
function checkScalar(type: string, value: unknown, path: string): void {
  const number = (v: unknown) =>
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw invalidValue(path, 'TYPE_STRING', value);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw invalidValue(path, 'TYPE_BOOL', value);
      return;
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      const n = number(value);
      const wide = type.endsWith('64');
      const ok =
        (typeof value === 'number' ? Number.isInteger(value) : typeof value === 'string' && INTEGER.test(value)) &&
        (!type.startsWith('u') || n >= 0) &&
        (wide || (type === 'int32' ? n >= -(2 ** 31) && n < 2 ** 31 : n < 2 ** 32));
      if (!ok) throw invalidValue(path, `TYPE_${type.toUpperCase()}`, value);
      return;
    }
    case 'float':
    case 'double':
      if (Number.isNaN(number(value)) && value !== 'NaN') throw invalidValue(path, `TYPE_${type.toUpperCase()}`, value);
      return;
    default:
      throw new Error(`schema: no check for scalar type ${type}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Throws the API's 400 for the first field of `body` the message `messageName` does not
 * declare, a value of the wrong JSON type, or a string outside its enum. `path` is where the
 * body sits in the request (`resource` for an insert/patch/update body).
 */
export function validateMessage(messageName: string, body: unknown, path = 'resource'): void {
  const m = computeModel();
  const def = m.messages[messageName];
  if (!def) throw new Error(`schema: no message ${messageName} in the Compute v1 model`);
  if (!isObject(body)) throw invalidValue(path, `type.googleapis.com/google.cloud.compute.v1.${messageName}`, body);
  const enums = m.enums.get(messageName);
  const protoNames = m.protoNames.get(messageName);
  for (const [name, value] of Object.entries(body)) {
    const field = def.fields[name];
    if (!field) throw unknownName(name, path);
    if (value === null) continue;
    const here = `${path}.${protoNames?.get(name) ?? name}`;
    if (field.keyType) {
      if (!isObject(value)) throw invalidValue(here, 'TYPE_MESSAGE', value);
      for (const [k, v] of Object.entries(value)) checkValue(messageName, field, v, `${here}[${JSON.stringify(k)}]`);
      continue;
    }
    if (field.rule === 'repeated') {
      if (!Array.isArray(value)) throw invalidValue(here, 'TYPE_MESSAGE', value);
      value.forEach((v, i) => checkValue(messageName, field, v, `${here}[${i}]`, enums?.get(name)));
      continue;
    }
    checkValue(messageName, field, value, here, enums?.get(name));
  }
}

function checkValue(owner: string, field: FieldDef, value: unknown, path: string, enumName?: string): void {
  const m = computeModel();
  if (m.messages[field.type]?.fields) return validateMessage(field.type, value, path);
  checkScalar(field.type, value, path);
  if (!enumName) return;
  const values = (m.messages[owner].nested?.[enumName]?.values ?? {}) as Record<string, number>;
  // UNDEFINED_* is the proto's "not set" marker, not a value the API takes.
  if (!(String(value) in values) || String(value).startsWith('UNDEFINED_'))
    throw invalidValue(path, `TYPE_ENUM ${enumName}`, value);
}
