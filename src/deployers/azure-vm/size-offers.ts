/**
 * Whether a VM size is offered to the subscription in the deployer's `location`, from Resource
 * Skus - List (`GET /subscriptions/S/providers/Microsoft.Compute/skus?$filter=location eq 'L'`,
 * what `az vm list-skus -l L` shows). A size that is absent there, or carries a `Location`
 * restriction (reason `NotAvailableForSubscription`, `QuotaId`), makes the VM PUT fail with 409
 * `SkuNotAvailable`, and only after the revision's public IP and load balancer exist; checking at
 * stage refuses it before anything is created. Zone restrictions do not apply: bp places VMs
 * regionally (no `zones`). One list per size and deployer (per set of clients); a failed lookup is not cached.
 */
import { ProviderError } from '../../model/errors.js';
import { VM_SIZES, type Settings } from './config.js';
import { arm } from './errors.js';
import type { AzureClients } from './sdk.js';

interface Sku {
  resourceType?: string;
  name?: string;
  locations?: string[];
  restrictions?: Array<{ type?: string; values?: string[]; reasonCode?: string }>;
}

const same = (a: string | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();

/** Why `sku` cannot be placed in `location`, or null when it can. */
function restriction(sku: Sku, location: string): string | null {
  const r = (sku.restrictions ?? []).find(
    (x) => x.type === 'Location' && (x.values ?? []).some((v) => same(v, location)),
  );
  return r ? (r.reasonCode ?? 'restricted') : null;
}

/** One per set of clients (one deployer), so the answers outlive each verb's RevisionResources. */
const perClients = new WeakMap<AzureClients, SizeOffers>();

export class SizeOffers {
  private readonly checked = new Map<string, Promise<void>>();

  static for(c: AzureClients, s: Settings): SizeOffers {
    let offers = perClients.get(c);
    if (!offers) perClients.set(c, (offers = new SizeOffers(c, s)));
    return offers;
  }

  private constructor(
    private readonly c: AzureClients,
    private readonly s: Settings,
  ) {}

  /** Resolves when `size` can be placed in `location`; a non-retryable ProviderError when not. */
  ensureOffered(size: string, signal: AbortSignal): Promise<void> {
    const key = size.toLowerCase();
    let check = this.checked.get(key);
    if (!check) {
      check = this.check(size, signal);
      this.checked.set(key, check);
      check.catch(() => this.checked.delete(key));
    }
    return check;
  }

  private async check(size: string, signal: AbortSignal): Promise<void> {
    const location = this.s.location;
    const skus: Sku[] = [];
    await arm(`list VM sizes offered in ${location}`, signal, async () => {
      const pages = this.c.compute.resourceSkus.list({ filter: `location eq '${location}'`, abortSignal: signal });
      for await (const sku of pages as AsyncIterable<Sku>) {
        if (sku.resourceType === 'virtualMachines' && (sku.locations ?? []).some((l) => same(l, location)))
          skus.push(sku);
      }
    });
    // No VM sizes listed at all (a cloud without this API's data): nothing to judge by.
    if (skus.length === 0) return;
    const sku = skus.find((x) => same(x.name, size));
    const why = sku ? restriction(sku, location) : 'not listed';
    if (why === null) return;
    const offered = VM_SIZES.map((v) => v.name).filter((name) => {
      const other = skus.find((x) => same(x.name, name));
      return other && restriction(other, location) === null;
    });
    throw new ProviderError(
      `VM size ${size} is not offered to this subscription in ${location} (${why}), so Azure would refuse its VMs with SkuNotAvailable; ` +
        `set vm_size (or resources) to a size offered there${offered.length ? ` (of bp's catalog: ${offered.join(', ')})` : ''}, ` +
        `or use another location (az vm list-skus -l ${location} --size ${size})`,
      { retryable: false },
    );
  }
}
