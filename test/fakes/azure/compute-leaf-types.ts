/**
 * The leaf types of `@azure/arm-compute`'s published declarations (compute-dts-model.ts) laid over
 * the wire tree compute-schema.ts recovers from the SDK's generated (de)serializers. The wire tree
 * knows members, nesting and read-only members but not what a leaf holds; walking both side by
 * side, each wire composite is matched to the interface its deserializer is named after
 * (`_virtualMachinePropertiesDeserializer` → `VirtualMachineProperties`), and each wire member to the
 * interface member its serializer reads it from (`diskIOPSReadWrite: item["diskIopsReadWrite"]`;
 * almost always the same name). A leaf then gets its JSON type (string, number, boolean, Date),
 * closed enums their values, members declared without `?` become required, and `readonly` members
 * are ignored in a request. Members with no declaration keep the SDK's untyped leaf.
 */
import {
  computeDtsModel,
  membersOf,
  resolve,
  type DtsMember,
  type DtsModel,
  type DtsType,
} from './compute-dts-model.js';
import type { Composite, WireField, WireType } from './wire-schema.js';

type Fn = (item: unknown) => unknown;

/** A stand-in client model value that remembers which member it was read as. */
interface Marker {
  readonly member: string;
}

/** Answers every read, call and conversion a serializer makes on a value (as compute-schema's probe). */
const inert: ProxyHandler<() => undefined> = {
  get: (_t, key) => (key === Symbol.toPrimitive ? () => '2000-01-01T00:00:00Z' : markerOf('')),
  apply: () => markerOf(''),
  ownKeys: () => [],
};
const markers = new Map<string, unknown>();
const identity = new WeakMap<object, Marker>();
function markerOf(member: string): unknown {
  let m = markers.get(member);
  if (!m) {
    m = new Proxy(() => undefined, inert);
    identity.set(m as object, { member });
    markers.set(member, m);
  }
  return m;
}

/**
 * Wire member → client member of one model, from its serializer: run on a client value whose every
 * member is a marker naming itself, a member passed through as-is shows where it came from.
 */
function wireToClient(serializers: Record<string, Fn>, className: string): Map<string, string> {
  const out = new Map<string, string>();
  const serializer = serializers[`${className.charAt(0).toLowerCase()}${className.slice(1)}Serializer`];
  if (!serializer) return out;
  const client = new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? markerOf(key) : undefined) });
  const wire = serializer(client) as Record<string, unknown>;
  for (const [k, v] of Object.entries(wire)) {
    const read = typeof v === 'function' ? identity.get(v) : undefined;
    if (read?.member && read.member !== k) out.set(k, read.member);
  }
  return out;
}

/** What a declared leaf holds on the wire; undefined when the declaration is not a leaf. */
function leafOf(model: DtsModel, declared: DtsType): WireType | undefined {
  const t = resolve(model, declared);
  switch (t.kind) {
    case 'string':
    case 'bytes': // a Uint8Array is sent base64-encoded
      return { kind: 'String' };
    case 'number':
      return { kind: 'Number' };
    case 'boolean':
      return { kind: 'Boolean' };
    case 'Date':
      return { kind: 'DateTime' };
    case 'literals':
      return { kind: 'Enum', allowed: t.values, ...(declared.kind === 'ref' ? { name: declared.name } : {}) };
    case 'any':
      return { kind: 'any' };
    default:
      return undefined;
  }
}

/**
 * `sdk` (the composite compute-schema.ts built) with the declarations' types, closed enums and
 * required members laid over it. `required` is not applied at the resource's own top level:
 * Resource Manager answers a missing `location` itself (resources.ts, LocationRequired).
 */
export function withDeclaredTypes(
  sdk: Composite,
  serializers: Record<string, Fn>,
  model: DtsModel = computeDtsModel(),
): Composite {
  const memo = new Map<Composite, Composite>();

  const composite = (c: Composite, top: boolean): Composite => {
    const known = memo.get(c);
    if (known) return known;
    const out: Composite = { kind: 'Composite', className: c.className, fields: new Map() };
    memo.set(c, out);
    const declared = membersOf(model, c.className);
    const names = wireToClient(serializers, c.className);
    for (const [name, field] of c.fields) {
      const member = declared?.get(names.get(name) ?? name);
      out.fields.set(name, typed(field, member, top));
    }
    return out;
  };

  const typed = (field: WireField, member: DtsMember | undefined, top: boolean): WireField => {
    if (member?.readonly) return { ...field, readOnly: true };
    const required = member?.required && !top && !field.readOnly ? { required: 'parameter' as const } : {};
    return { ...field, type: typeOf(field.type, member?.type), ...required };
  };

  const typeOf = (t: WireType, declared: DtsType | undefined): WireType => {
    const d = declared && resolve(model, declared);
    // Composites are matched by their own class name: a flattened `properties` has no declared member.
    if (t.kind === 'Composite') return composite(t, false);
    if (t.kind === 'Sequence')
      return {
        kind: 'Sequence',
        element: { ...t.element, type: typeOf(t.element.type, d?.kind === 'array' ? d.element : undefined) },
      };
    if (t.kind === 'Dictionary')
      return {
        kind: 'Dictionary',
        value: { ...t.value, type: typeOf(t.value.type, d?.kind === 'record' ? d.value : undefined) },
      };
    if ((t.kind === 'Primitive' || t.kind === 'DateTime') && declared) return leafOf(model, declared) ?? t;
    return t;
  };

  return composite(sdk, true);
}
