/**
 * The leaf types of `@azure/arm-compute`'s models, read from the TypeScript declarations the SDK
 * publishes (`dist/esm/models/{common,compute}/models.d.ts` and `models/models.d.ts`). The generated
 * JavaScript compute-schema.ts probes says which members exist and how they nest, but not what a
 * leaf holds; the declarations do: `computerName?: string`, `diskSizeGB?: number`, closed enums as
 * string-literal unions (`type CachingTypes = "None" | "ReadOnly" | "ReadWrite"`), extensible ones
 * as `type VirtualMachinePriorityTypes = string` (with a `KnownVirtualMachinePriorityTypes` enum of
 * the values the service knows), required members without `?`, and `readonly` members.
 *
 * The files are parsed as text with the TypeScript compiler's parser (no type checker, no import of
 * the SDK's types), once per process: the fake type-checks with the SDKs replaced by stand-ins.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** A member's declared type, as far as a request check needs it. */
export type DtsType =
  | { kind: 'string' | 'number' | 'boolean' | 'Date' | 'bytes' | 'any' }
  | { kind: 'literals'; values: string[] }
  | { kind: 'ref'; name: string }
  | { kind: 'array'; element: DtsType }
  | { kind: 'record'; value: DtsType };

export interface DtsMember {
  type: DtsType;
  /** Declared without `?`: the service requires it. */
  required: boolean;
  readonly: boolean;
}

export interface DtsInterface {
  extends: string[];
  members: Map<string, DtsMember>;
}

export interface DtsModel {
  /** `@azure/arm-compute`'s version, from its package.json. */
  sdkVersion: string;
  interfaces: Map<string, DtsInterface>;
  /** `export type X = ...`: closed enums (literal unions) and extensible ones (`string`). */
  aliases: Map<string, DtsType>;
  /** `export declare enum KnownX`: the values the service knows for the extensible enum X. */
  known: Map<string, string[]>;
}

/** The declaration files, in an order where the compute models (the VM's own) are read last and win. */
const FILES = ['models/common/models.d.ts', 'models/models.d.ts', 'models/compute/models.d.ts'];

const nameOf = (n: ts.PropertyName | ts.EntityName | ts.Expression): string =>
  ts.isIdentifier(n) || ts.isStringLiteral(n) ? n.text : n.getText();

function typeOf(node: ts.TypeNode): DtsType {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { kind: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { kind: 'number' };
    case ts.SyntaxKind.BooleanKeyword:
      return { kind: 'boolean' };
  }
  if (ts.isParenthesizedTypeNode(node)) return typeOf(node.type);
  if (ts.isArrayTypeNode(node)) return { kind: 'array', element: typeOf(node.elementType) };
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal))
    return { kind: 'literals', values: [node.literal.text] };
  if (ts.isUnionTypeNode(node)) {
    // `"A" | "B"` is a closed enum; a union with null/undefined is its other half.
    const parts = node.types
      .filter((t) => !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword))
      .filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword)
      .map(typeOf);
    if (parts.length === 1) return parts[0];
    if (parts.every((p) => p.kind === 'literals'))
      return { kind: 'literals', values: parts.flatMap((p) => (p.kind === 'literals' ? p.values : [])) };
    return { kind: 'any' };
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = nameOf(node.typeName);
    const args = node.typeArguments ?? [];
    if (name === 'Date') return { kind: 'Date' };
    if (name === 'Uint8Array') return { kind: 'bytes' };
    if (name === 'Array' && args[0]) return { kind: 'array', element: typeOf(args[0]) };
    if (name === 'Record' && args[1]) return { kind: 'record', value: typeOf(args[1]) };
    return { kind: 'ref', name };
  }
  // any, unknown, inline object literals: nothing the check can hold a value to.
  return { kind: 'any' };
}

function readInto(model: DtsModel, text: string, file: string): void {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  for (const s of source.statements) {
    if (ts.isInterfaceDeclaration(s)) {
      const members = new Map<string, DtsMember>();
      for (const m of s.members) {
        if (!ts.isPropertySignature(m) || !m.type) continue;
        members.set(nameOf(m.name), {
          type: typeOf(m.type),
          required: !m.questionToken,
          readonly: !!m.modifiers?.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword),
        });
      }
      const bases = (s.heritageClauses ?? []).flatMap((h) => h.types.map((t) => nameOf(t.expression)));
      model.interfaces.set(s.name.text, { extends: bases, members });
    } else if (ts.isTypeAliasDeclaration(s)) {
      model.aliases.set(s.name.text, typeOf(s.type));
    } else if (ts.isEnumDeclaration(s) && s.name.text.startsWith('Known')) {
      const values = s.members.flatMap((m) =>
        m.initializer && ts.isStringLiteral(m.initializer) ? [m.initializer.text] : [],
      );
      model.known.set(s.name.text.slice('Known'.length), values);
    }
  }
}

/** The model of declaration files read in order (a later declaration of a name wins). */
export function parseDeclarations(sdkVersion: string, files: Array<{ file: string; text: string }>): DtsModel {
  const model: DtsModel = { sdkVersion, interfaces: new Map(), aliases: new Map(), known: new Map() };
  for (const { file, text } of files) readInto(model, text, file);
  return model;
}

let cached: DtsModel | null = null;

/** The model of the installed `@azure/arm-compute`, parsed on first use. */
export function computeDtsModel(): DtsModel {
  if (cached) return cached;
  const pkg = createRequire(import.meta.url).resolve('@azure/arm-compute/package.json');
  const dist = join(dirname(pkg), 'dist/esm');
  cached = parseDeclarations(
    (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version,
    FILES.map((file) => ({ file, text: readFileSync(join(dist, file), 'utf8') })),
  );
  return cached;
}

const byLowerName = new WeakMap<DtsModel, Map<string, DtsInterface | null>>();

/** The interface named `name` in any casing; none when two interfaces differ only in casing. */
function interfaceNamed(model: DtsModel, name: string): DtsInterface | undefined {
  let index = byLowerName.get(model);
  if (!index) {
    index = new Map();
    for (const [n, i] of model.interfaces) index.set(n.toLowerCase(), index.has(n.toLowerCase()) ? null : i);
    byLowerName.set(model, index);
  }
  return model.interfaces.get(name) ?? index.get(name.toLowerCase()) ?? undefined;
}

/**
 * An interface's members with those of the interfaces it extends (its own win). The name matches
 * case-insensitively: the wire tree names a type after its deserializer (`osDiskDeserializer` →
 * `OsDisk`), the declarations keep the model's casing (`OSDisk`).
 */
export function membersOf(model: DtsModel, name: string): Map<string, DtsMember> | undefined {
  const i = interfaceNamed(model, name);
  if (!i) return undefined;
  const out = new Map<string, DtsMember>();
  for (const base of i.extends) membersOf(model, base)?.forEach((m, k) => out.set(k, m));
  i.members.forEach((m, k) => out.set(k, m));
  return out;
}

/** Follows type aliases to what they stand for (`CachingTypes` → its literals, `DeleteOptions` → string). */
export function resolve(model: DtsModel, t: DtsType, seen = new Set<string>()): DtsType {
  if (t.kind !== 'ref' || seen.has(t.name)) return t;
  const alias = model.aliases.get(t.name);
  if (!alias) return t;
  seen.add(t.name);
  return resolve(model, alias, seen);
}
