/**
 * Wire shapes from the classic AutoRest mappers that `@azure/arm-network` and
 * `@azure/arm-trafficmanager` ship (`models/mappers.js`): each model property's
 * `serializedName` (dotted: `properties.dnsSettings` is the member `dnsSettings` of the
 * flattened `properties` object), its type (String, Number, Boolean, Enum, Composite, Sequence,
 * Dictionary, DateTime ...), `required`, `readOnly` and `constraints`. The module files are read
 * from node_modules as shipped: Traffic Manager's ESM build sits in a CommonJS package, so the
 * file's `export const` statements are evaluated as plain declarations rather than imported.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Composite, Constraints, WireField, WireType } from './wire-schema.js';

interface Mapper {
  serializedName?: string;
  readOnly?: boolean;
  required?: boolean;
  constraints?: Constraints;
  type: {
    name: string;
    className?: string;
    modelProperties?: Record<string, Mapper>;
    allowedValues?: string[];
    element?: Mapper;
    value?: Mapper;
  };
}

type Mappers = Record<string, Mapper>;

/** The module's exported mappers, by class name. */
export function loadMappers(pkg: string, file: string): Mappers {
  const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  const names: string[] = [];
  const text = readFileSync(join(dir, file), 'utf8').replace(/^export const (\w+) = /gm, (_m, name: string) => {
    names.push(name);
    return `const ${name} = `;
  });
  return new Function(`${text}\nreturn { ${names.join(', ')} };`)() as Mappers;
}

/** Splits `properties.a\\.b.c` on the dots that are not escaped. */
const segments = (serializedName: string) => serializedName.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));

/**
 * Builds wire composites from mappers. `flattenedSuffix` names the anonymous objects the
 * mappers flatten away, as the provider's own types are named (`PublicIPAddressPropertiesFormat`
 * in Network, `ProfileProperties` in Traffic Manager): the name the provider's errors show.
 */
export class MapperSchemas {
  private readonly built = new Map<string, Composite>();

  constructor(
    private readonly mappers: Mappers,
    private readonly flattenedSuffix: string,
  ) {}

  composite(className: string): Composite {
    const known = this.built.get(className);
    if (known) return known;
    const mapper = this.mappers[className];
    if (!mapper) throw new Error(`the SDK has no mapper ${className}`);
    const root: Composite = { kind: 'Composite', className, fields: new Map() };
    // Registered before its members: models refer to themselves (PublicIPAddress.servicePublicIPAddress).
    this.built.set(className, root);
    for (const property of Object.values(mapper.type.modelProperties ?? {})) {
      if (!property.serializedName) continue;
      const path = segments(property.serializedName);
      let owner = root;
      for (const step of path.slice(0, -1)) {
        let nested = owner.fields.get(step);
        if (!nested) {
          const name = `${className}${step === 'properties' ? this.flattenedSuffix : step}`;
          nested = { type: { kind: 'Composite', className: name, fields: new Map() } };
          owner.fields.set(step, nested);
        }
        owner = nested.type as Composite;
      }
      owner.fields.set(path[path.length - 1], this.field(property));
    }
    return root;
  }

  private field(m: Mapper): WireField {
    return {
      type: this.type(m),
      ...(m.readOnly ? { readOnly: true } : {}),
      ...(m.required ? { required: true } : {}),
      ...(m.constraints ? { constraints: m.constraints } : {}),
    };
  }

  private type(m: Mapper): WireType {
    const t = m.type;
    switch (t.name) {
      case 'Composite':
        return this.composite(t.className!);
      case 'Sequence':
        return { kind: 'Sequence', element: this.field(t.element!) };
      case 'Dictionary':
        return { kind: 'Dictionary', value: this.field(t.value!) };
      case 'Enum':
        return { kind: 'Enum', allowed: t.allowedValues ?? [] };
      case 'String':
      case 'Number':
      case 'Boolean':
      case 'DateTime':
        return { kind: t.name };
      case 'DateTimeRfc1123':
      case 'Date':
        return { kind: 'DateTime' };
      case 'any':
      case 'Object':
        return { kind: 'any' };
      default:
        // Uuid, ByteArray, Base64Url, TimeSpan ...: strings on the wire.
        return { kind: 'String' };
    }
  }
}

let network: MapperSchemas | null = null;
let trafficManager: MapperSchemas | null = null;

/** `@azure/arm-network`'s models (Network resource provider type names end in PropertiesFormat). */
export function networkSchemas(): MapperSchemas {
  network ??= new MapperSchemas(loadMappers('@azure/arm-network', 'dist/esm/models/mappers.js'), 'PropertiesFormat');
  return network;
}

/** `@azure/arm-trafficmanager`'s models (API 2022-04-01). */
export function trafficManagerSchemas(): MapperSchemas {
  trafficManager ??= new MapperSchemas(
    loadMappers('@azure/arm-trafficmanager', 'dist-esm/src/models/mappers.js'),
    'Properties',
  );
  return trafficManager;
}
