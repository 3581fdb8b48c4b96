/**
 * The fake's slice of the Compute VM size catalog and where each size is offered: the
 * `GET /subscriptions/S/providers/Microsoft.Compute/skus` list (Resource Skus - List) with its
 * `Location` and `Zone` restrictions, and the VM PUT's `SkuNotAvailable` refusal of a size that
 * is not offered in the VM's location or requested zone. BEHAVIOUR.md cites the references.
 */
import { ArmError, type Json } from './store.js';

/** vCPUs per size. */
export const CORES: Record<string, number> = {
  Standard_B1ls: 1,
  Standard_B1s: 1,
  Standard_B1ms: 1,
  Standard_B2s: 2,
  Standard_B2ms: 2,
  Standard_D2s_v5: 2,
  Standard_D4s_v5: 4,
  Standard_D8s_v5: 8,
  Standard_D16s_v5: 16,
  Standard_D32s_v5: 32,
  Standard_NC4as_T4_v3: 4,
  Standard_NC8as_T4_v3: 8,
  Standard_NC16as_T4_v3: 16,
  Standard_NC64as_T4_v3: 64,
};

/** Regions the catalog lists; each offers availability zones 1, 2 and 3. */
export const SKU_LOCATIONS = ['westeurope', 'eastus'];
const ZONES = ['1', '2', '3'];

/**
 * A size not offered to the subscription in `location` (no `zones`), or only not in `zones`
 * there: a `Location` or `Zone` restriction with reason `NotAvailableForSubscription`.
 */
export interface SkuRestriction {
  size: string;
  location: string;
  zones?: string[];
}

/** As a typical subscription sees West Europe: the largest T4 size withheld, the smallest not in zone 2. */
export const DEFAULT_RESTRICTIONS: SkuRestriction[] = [
  { size: 'Standard_NC64as_T4_v3', location: 'westeurope' },
  { size: 'Standard_NC4as_T4_v3', location: 'westeurope', zones: ['2'] },
];

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** `Resource Skus - List` entries (`resourceType: virtualMachines`), optionally for one location. */
export function skuCatalog(restrictions: SkuRestriction[], location: string | null): Json[] {
  const out: Json[] = [];
  for (const loc of SKU_LOCATIONS.filter((l) => location === null || same(l, location))) {
    for (const [name, cores] of Object.entries(CORES)) {
      const mine = restrictions.filter((r) => same(r.size, name) && same(r.location, loc));
      out.push({
        resourceType: 'virtualMachines',
        name,
        tier: 'Standard',
        size: name.replace(/^Standard_/, ''),
        family: `standard${name.replace(/^Standard_([A-Z]+).*$/, '$1')}Family`,
        locations: [loc],
        locationInfo: [{ location: loc, zones: ZONES }],
        capabilities: [{ name: 'vCPUs', value: String(cores) }],
        restrictions: mine.map((r) =>
          r.zones
            ? {
                type: 'Zone',
                values: [loc],
                restrictionInfo: { locations: [loc], zones: r.zones },
                reasonCode: 'NotAvailableForSubscription',
              }
            : {
                type: 'Location',
                values: [loc],
                restrictionInfo: { locations: [loc] },
                reasonCode: 'NotAvailableForSubscription',
              },
        ),
      });
    }
  }
  return out;
}

/** `$filter=location eq 'westeurope'`, the one filter the service documents for this list. */
export function locationFilter(filter: string | null): string | null {
  if (!filter) return null;
  const m = /^\s*location\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (!m) throw new ArmError(400, 'InvalidParameter', `The $filter '${filter}' is not supported.`);
  return m[1];
}

/** A VM PUT: the size must exist, and be offered in the location and in every requested zone. */
export function checkSizeOffered(
  restrictions: SkuRestriction[],
  size: string,
  location: string,
  zones: string[] | undefined,
): void {
  if (!Object.keys(CORES).some((s) => same(s, size)))
    throw new ArmError(
      400,
      'InvalidParameter',
      `The value ${size} provided for the VM size is not valid. The valid sizes in the current region are: ${Object.keys(CORES).join(', ')}.`,
    );
  const restricted = restrictions.find(
    (r) =>
      same(r.size, size) && same(r.location, location) && (!r.zones || (zones ?? []).some((z) => r.zones!.includes(z))),
  );
  if (restricted)
    throw new ArmError(
      409,
      'SkuNotAvailable',
      `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${size}' is currently not available in location '${location}'${restricted.zones && zones?.length ? ` zones '${zones.join(',')}'` : ''}. Please try another size or deploy to a different location or different zones. See https://aka.ms/azureskunotavailable for details.`,
    );
}
