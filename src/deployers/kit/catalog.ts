/** Picking a machine size from a deployer's catalog of sizes (aws-ec2, gcp-compute, azure-vm). */
import type { Resources } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';

/** One size of a deployer's smallest-first catalog (an instance type, VM size, machine type). */
export interface CatalogSize {
  name: string;
  /** vCPUs (fractions for shared-core sizes). */
  cpu: number;
  memory_mb: number;
  gpu: number;
}

/**
 * The first entry of a smallest-first catalog that covers the revision's cpu, memory and gpu.
 * A GPU revision gets a GPU size and any other revision a size without one, so nobody pays
 * for an accelerator they did not ask for. Undefined when nothing fits.
 */
export function smallestFit(catalog: readonly CatalogSize[], resources: Resources): CatalogSize | undefined {
  return catalog.find(
    (t) =>
      t.cpu >= resources.cpu &&
      t.memory_mb >= resources.memory_mb &&
      t.gpu >= resources.gpu &&
      resources.gpu > 0 === t.gpu > 0,
  );
}

/**
 * `smallestFit`, or a non-retryable error `noFit`: what the revision asked for and which config
 * setting names a size instead (the catalog is a default, not every size the provider has).
 */
export function requireFit(catalog: readonly CatalogSize[], resources: Resources, noFit: string): CatalogSize {
  const fit = smallestFit(catalog, resources);
  if (!fit) throw new ProviderError(noFit);
  return fit;
}
