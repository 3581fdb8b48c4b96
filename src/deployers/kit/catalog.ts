/** Picking a machine size from a deployer's catalog of sizes (aws-ec2, gcp-compute, azure-vm). */
import type { Resources } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';

/**
 * The first entry of a smallest-first catalog that covers the revision's cpu, memory and gpu.
 * A GPU revision gets a GPU size and any other revision a size without one, so nobody pays
 * for an accelerator they did not ask for. Undefined when nothing fits.
 */
export function smallestFit<T extends { memory_mb: number; gpu: number }>(
  catalog: readonly T[],
  resources: Resources,
  cpuOf: (entry: T) => number,
): T | undefined {
  return catalog.find(
    (t) =>
      cpuOf(t) >= resources.cpu &&
      t.memory_mb >= resources.memory_mb &&
      t.gpu >= resources.gpu &&
      resources.gpu > 0 === t.gpu > 0,
  );
}

/**
 * `smallestFit`, or a non-retryable error `noFit`: what the revision asked for and which config
 * setting names a size instead (the catalog is a default, not every size the provider has).
 */
export function requireFit<T extends { memory_mb: number; gpu: number }>(
  catalog: readonly T[],
  resources: Resources,
  cpuOf: (entry: T) => number,
  noFit: string,
): T {
  const fit = smallestFit(catalog, resources, cpuOf);
  if (!fit) throw new ProviderError(noFit);
  return fit;
}
