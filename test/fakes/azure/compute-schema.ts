/**
 * Wire shapes of `@azure/arm-compute` (24.x) models. This SDK generation ships no AutoRest
 * mappers: each model has a generated `fooDeserializer(item)` that reads exactly the wire members
 * of its type (`item["hardwareProfile"]`, `item["properties"]` ...), and a `fooSerializer` that
 * writes exactly the members a client may send. Running both on a probe object (a Proxy that
 * records every member read) recovers the model: member names, nesting, sequences
 * (`.map`), dictionaries (`Object.entries`), date-times (`new Date(...)`), the type name from the
 * deserializer's function name, and read-only members (read by the deserializer, never written
 * by the serializer). Leaf members are primitives of unrecorded type ('Primitive').
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Composite, WireType } from './wire-schema.js';

type Fn = (item: unknown) => unknown;

interface Node {
  kind: 'Primitive' | 'Composite' | 'Sequence' | 'Dictionary' | 'DateTime';
  /** The deserializer that read the members (`hardwareProfileDeserializer`). */
  fn?: string;
  members: Map<string, Node>;
  element?: Node;
  /** Same type as an enclosing node (recursive models): not probed again. */
  ref?: Node;
}

const DICT_KEY = '\u0000probe-key';

/** The function reading the probe: the first stack frame outside this file. */
function caller(): string {
  const saved = Error.prepareStackTrace;
  Error.prepareStackTrace = (_e, frames) => frames;
  const frames = new Error().stack as unknown as NodeJS.CallSite[];
  Error.prepareStackTrace = saved;
  const here = frames[0]?.getFileName();
  return frames.find((f) => f.getFileName() !== here)?.getFunctionName() ?? '';
}

const classOf = (fn: string) => {
  const base = fn.replace(/^_/, '').replace(/(Array|Record)?(Deserializer|Serializer)$/, '');
  return base.charAt(0).toUpperCase() + base.slice(1);
};

/** A probe whose reads build `node`; `types` shares one node per model type. */
function probe(node: Node, types: Map<string, Node>): unknown {
  const child = (key: string) => {
    let n = node.members.get(key);
    if (!n) node.members.set(key, (n = { kind: 'Primitive', members: new Map() }));
    return probe(n, types);
  };
  return new Proxy(
    {},
    {
      get(_t, key) {
        if (key === Symbol.toPrimitive) {
          node.kind = 'DateTime';
          return () => '2000-01-01T00:00:00Z';
        }
        if (typeof key !== 'string') return undefined;
        if (node.ref) return dead;
        if (key === 'map' && node.kind !== 'Composite') {
          node.kind = 'Sequence';
          node.element ??= { kind: 'Primitive', members: new Map() };
          const element = probe(node.element, types);
          return (fn: Fn) => [fn(element)];
        }
        if (key === DICT_KEY) {
          node.kind = 'Dictionary';
          node.element ??= { kind: 'Primitive', members: new Map() };
          return probe(node.element, types);
        }
        if (node.kind === 'Primitive') {
          node.kind = 'Composite';
          node.fn = caller();
          const known = types.get(node.fn);
          if (known && known !== node) {
            node.ref = known;
            return dead;
          }
          types.set(node.fn, node);
        }
        return child(key);
      },
      ownKeys() {
        node.kind = 'Dictionary';
        return [DICT_KEY];
      },
      getOwnPropertyDescriptor() {
        return { configurable: true, enumerable: true, writable: true, value: undefined };
      },
    },
  );
}

/**
 * Stands for a value whose type is already known (recursive and shared models) and for the
 * client model a serializer reads: every read, call or conversion answers the probe itself.
 */
const dead: unknown = new Proxy(() => undefined, {
  get: (_t, key) => (key === Symbol.toPrimitive ? () => '2000-01-01T00:00:00Z' : dead),
  apply: () => dead,
  ownKeys: () => [],
});

/** The wire members a type's serializer writes: the members a client may send. */
function writable(m: Record<string, Fn>, deserializer: string): Set<string> {
  const serializer = m[deserializer.replace(/Deserializer$/, 'Serializer')];
  if (!serializer) return new Set();
  const out = serializer(dead) as Record<string, unknown>;
  return new Set(Object.keys(out).filter((k) => out[k] !== undefined));
}

const converted = new Map<Node, Composite>();

function toType(n: Node, m: Record<string, Fn>): WireType {
  const target = n.ref ?? n;
  switch (target.kind) {
    case 'Composite': {
      const known = converted.get(target);
      if (known) return known;
      const c: Composite = { kind: 'Composite', className: classOf(target.fn!), fields: new Map() };
      converted.set(target, c);
      const sent = writable(m, target.fn!);
      for (const [k, member] of target.members)
        c.fields.set(k, { type: toType(member, m), ...(sent.has(k) ? {} : { readOnly: true }) });
      return c;
    }
    case 'Sequence':
      return { kind: 'Sequence', element: { type: toType(target.element!, m) } };
    case 'Dictionary':
      return { kind: 'Dictionary', value: { type: toType(target.element!, m) } };
    default:
      return { kind: target.kind };
  }
}

let models: Record<string, Fn> | null = null;

/** The generated (de)serializers: compute's own, and the common ones it imports. */
export async function computeModels(): Promise<Record<string, Fn>> {
  const dir = dirname(createRequire(import.meta.url).resolve('@azure/arm-compute/package.json'));
  const load = async (file: string) =>
    (await import(pathToFileURL(join(dir, 'dist/esm/models', file)).href)) as Record<string, Fn>;
  models ??= Object.assign(
    {},
    await load('common/models.js'),
    await load('models.js'),
    await load('compute/models.js'),
  );
  return models;
}

const schemas = new Map<string, Composite>();

/**
 * The wire composite of one compute model (`virtualMachine`): read-only members are those the
 * serializer never writes, judged by path from the resource's root (a type shared by read and
 * write positions is judged where it appears).
 */
export async function computeSchema(model: string): Promise<Composite> {
  const known = schemas.get(model);
  if (known) return known;
  const m = await computeModels();
  const root: Node = { kind: 'Primitive', members: new Map() };
  m[`${model}Deserializer`](probe(root, new Map()));
  const schema = toType(root, m) as Composite;
  schemas.set(model, schema);
  return schema;
}
