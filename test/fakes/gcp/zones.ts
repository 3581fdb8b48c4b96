/**
 * Which machine types each of the fake's zones offers, and the `machineTypes` resources the
 * API answers with. Compute Engine offers most general-purpose families in every zone but
 * accelerator-optimized ones (G2 with NVIDIA L4, A2 with A100) only in some
 * (https://cloud.google.com/compute/docs/regions-zones#available,
 * https://cloud.google.com/compute/docs/gpus/gpu-regions-zones). BEHAVIOUR.md, "Zones".
 */
import { ApiError, LINK_BASE } from './store.js';

export const ZONES = [
  'us-central1-a',
  'us-central1-b',
  'us-central1-c',
  'us-central1-f',
  'europe-west1-b',
  'europe-west1-c',
  'europe-west1-d',
];

/** Zones that offer a family; families absent here are offered in every zone above. */
const FAMILY_ZONES: Record<string, string[]> = {
  g2: ['us-central1-a', 'us-central1-b', 'us-central1-c', 'europe-west1-b', 'europe-west1-c'],
  a2: ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f', 'europe-west1-b'],
};

interface MachineShape {
  guestCpus: number;
  memoryMb: number;
  gpus: number;
  accelerator?: string;
}

/** Predefined types by family: `FAMILY-CLASS-N` sizes (e2 shared-core types by name). */
const SHARED: Record<string, MachineShape> = {
  'e2-micro': { guestCpus: 2, memoryMb: 1024, gpus: 0 },
  'e2-small': { guestCpus: 2, memoryMb: 2048, gpus: 0 },
  'e2-medium': { guestCpus: 2, memoryMb: 4096, gpus: 0 },
};
const G2_GPUS: Record<number, number> = { 4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8 };
const PER_CPU_MB: Record<string, number> = { standard: 4096, highmem: 8192, highcpu: 1024 };

/** The shape of a type name the fake knows, or null for a name Compute Engine has nowhere. */
export function machineShape(name: string): MachineShape | null {
  if (SHARED[name]) return SHARED[name];
  const m = /^(e2|n1|n2|n2d|c3|t2d|g2)-(standard|highmem|highcpu)-(\d+)$/.exec(name);
  if (!m) return null;
  const cpus = Number(m[3]);
  if (m[1] === 'g2') {
    const gpus = G2_GPUS[cpus];
    return m[2] === 'standard' && gpus
      ? { guestCpus: cpus, memoryMb: cpus * 4096, gpus, accelerator: 'nvidia-l4' }
      : null;
  }
  return { guestCpus: cpus, memoryMb: cpus * PER_CPU_MB[m[2]], gpus: 0 };
}

export function offeredIn(name: string, zone: string): boolean {
  if (!ZONES.includes(zone) || machineShape(name) === null) return false;
  const zones = FAMILY_ZONES[name.split('-')[0]];
  return zones ? zones.includes(zone) : true;
}

/** `zones/Z/machineTypes/NAME` as the API returns it (`compute#machineType`). */
export function machineTypeResource(project: string, zone: string, name: string): Record<string, unknown> {
  const shape = machineShape(name);
  if (!shape || !offeredIn(name, zone)) throw notOffered(project, zone, name);
  return {
    kind: 'compute#machineType',
    id: String(1000 + name.length),
    name,
    description: `${shape.guestCpus} vCPUs, ${shape.memoryMb / 1024} GB RAM`,
    guestCpus: shape.guestCpus,
    memoryMb: shape.memoryMb,
    isSharedCpu: name in SHARED,
    zone: zone,
    selfLink: `${LINK_BASE}projects/${project}/zones/${zone}/machineTypes/${name}`,
    ...(shape.gpus
      ? { accelerators: [{ guestAcceleratorType: shape.accelerator, guestAcceleratorCount: shape.gpus }] }
      : {}),
  };
}

export function notOffered(project: string, zone: string, name: string): ApiError {
  return new ApiError(
    404,
    'notFound',
    `The resource 'projects/${project}/zones/${zone}/machineTypes/${name}' was not found`,
  );
}

/** The type name of a template's or instance's `machineType` (a name, or a zonal link). */
export function machineTypeName(ref: unknown): string {
  return String(ref ?? '')
    .split('/')
    .pop() as string;
}

export const regionOf = (zone: string): string => zone.replace(/-[a-z]$/, '');
