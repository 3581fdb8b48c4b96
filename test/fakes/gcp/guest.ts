/**
 * What happens inside the fake's zones over time: managed instance groups create, repair and
 * delete their VMs, VMs boot (PROVISIONING -> STAGING -> RUNNING), and their container or
 * startup script starts serving so the load balancer's health check passes after a delay.
 */
import { randomBytes } from 'node:crypto';
import type { Quotas } from './quotas.js';
import { ApiError, LINK_BASE, type Resource, type Store } from './store.js';

export interface GuestTimings {
  /** From instance insert to RUNNING. */
  bootMs: number;
  /** From RUNNING to passing the load balancer's health check. */
  healthyAfterMs: number;
  /** How long a MIG waits before recreating a deleted or terminated VM. */
  repairDelayMs: number;
}

interface GuestState {
  createdAt: number;
  /** null: the workload never serves (its image cannot be pulled). */
  servesAt: number | null;
  terminatedAt?: number;
}

type MetadataItem = { key: string; value: string };

/** An entry of `instanceGroupManagers.listErrors`: a VM the group failed to create, and why. */
export interface GroupError {
  timestamp: string;
  instanceActionDetails: { action: 'CREATING'; instance: string };
  error: { code: string; message: string };
}

const fingerprint = () => randomBytes(8).toString('base64');

/**
 * The image a VM runs: the `docker run` of its startup-script (what bp writes), or the image of
 * a Container-Optimized OS container declaration (`spec.containers[0].image`).
 */
export function declaredImage(metadata: unknown): string | null {
  const items = (metadata as { items?: MetadataItem[] } | undefined)?.items ?? [];
  const script = items.find((i) => i.key === 'startup-script')?.value;
  const run = script ? /^docker run [^\n]*'([^'\s]+)'\s*$/m.exec(script) : null;
  if (run) return run[1];
  const decl = items.find((i) => i.key === 'gce-container-declaration')?.value;
  const m = decl ? /^\s*-?\s*image:\s*['"]?([^'"\s]+)/m.exec(decl) : null;
  return m ? m[1] : null;
}

/**
 * Why the VM's startup-script fails before its workload serves (BEHAVIOUR.md, "Guests"), or
 * null: a metadata-server token (`service-accounts/default/token`) needs a service account on
 * the VM, and an Artifact Registry / Container Registry image pulls only after `docker login`
 * to its host. The fake checks these preconditions; it does not run the script.
 */
export function bootFailure(metadata: unknown, serviceAccounts: unknown): string | null {
  const items = (metadata as { items?: MetadataItem[] } | undefined)?.items ?? [];
  const script = items.find((i) => i.key === 'startup-script')?.value ?? '';
  const accounts = Array.isArray(serviceAccounts) ? serviceAccounts : [];
  if (script.includes('/service-accounts/default/token') && accounts.length === 0)
    return 'the metadata server has no token: the VM runs without a service account';
  const lines = script.split('\n');
  const run = lines.findIndex((l) => l.startsWith('docker run '));
  const image = run >= 0 ? /'([^'\s]+)'\s*$/.exec(lines[run])?.[1] : undefined;
  const host = image?.split('/')[0] ?? '';
  const google = /^[a-z0-9-]+-docker\.pkg\.dev$/.test(host) || /^([a-z]+\.)?gcr\.io$/.test(host);
  if (google && !lines.slice(0, run).some((l) => l.includes('docker login') && l.includes(`https://${host}`)))
    return `docker run: pull access denied for ${image}: unauthenticated`;
  return null;
}

export class Guests {
  private readonly state = new Map<string, GuestState>();
  private nextIp = 2;
  /** MIG path -> when it first had fewer VMs than its target size. */
  private readonly shortSince = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  /** MIG path -> VMs it could not create (newest last, at most 50 kept). */
  private readonly errors = new Map<string, GroupError[]>();

  constructor(
    private readonly store: Store,
    private readonly quotas: Quotas,
    private readonly timings: () => GuestTimings,
    /** Images the fake's "registry" refuses; any image under the reserved `.invalid` TLD too. */
    private readonly unpullable: Set<string>,
  ) {
    this.timer = setInterval(() => this.tick(), 25);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private pullable(image: string | null): boolean {
    if (image === null) return true;
    const host = image.split('/')[0];
    return !(host.includes('.') && host.endsWith('.invalid')) && !this.unpullable.has(image);
  }

  /** Creates one VM from an instance template, as a MIG (or instances.insert) would. */
  createInstance(zoneScope: string, name: string, template: Resource, createdBy: string | null): Resource {
    const props = (template.properties ?? {}) as Record<string, unknown>;
    const metadata = structuredClone((props.metadata as { items?: MetadataItem[] } | undefined) ?? { items: [] });
    metadata.items = [...(metadata.items ?? [])];
    Object.assign(metadata, { fingerprint: fingerprint(), kind: 'compute#metadata' });
    if (createdBy) metadata.items.push({ key: 'created-by', value: createdBy });
    const nics = ((props.networkInterfaces as Array<Record<string, unknown>> | undefined) ?? [{}]).map((n) => ({
      ...n,
      network: n.network ?? `${LINK_BASE}projects/${zoneScope.split('/')[1]}/global/networks/default`,
      networkIP: `10.128.${Math.floor(this.nextIp / 250)}.${(this.nextIp++ % 250) + 2}`,
      name: 'nic0',
    }));
    const machineType = String(props.machineType ?? 'e2-medium');
    const instance = this.store.put(zoneScope, 'instances', {
      kind: 'compute#instance',
      name,
      creationTimestamp: new Date().toISOString(),
      zone: `${LINK_BASE}${zoneScope}`,
      status: 'PROVISIONING',
      machineType: machineType.includes('/') ? machineType : `${LINK_BASE}${zoneScope}/machineTypes/${machineType}`,
      labels: { ...((props.labels as Record<string, string> | undefined) ?? {}) },
      metadata,
      tags: { items: [], ...((props.tags as object | undefined) ?? {}), fingerprint: fingerprint() },
      fingerprint: fingerprint(),
      labelFingerprint: fingerprint(),
      networkInterfaces: nics,
      disks: props.disks ?? [],
      scheduling: props.scheduling ?? {},
      serviceAccounts: props.serviceAccounts ?? [],
      description: props.description ?? '',
    });
    const t = this.timings();
    const now = Date.now();
    this.state.set(pathOf(instance), {
      createdAt: now,
      servesAt:
        this.pullable(declaredImage(metadata)) && bootFailure(metadata, props.serviceAccounts) === null
          ? now + t.bootMs + t.healthyAfterMs
          : null,
    });
    return instance;
  }

  deleteInstance(path: string): void {
    this.store.remove(path);
    this.state.delete(path);
  }

  /** A VM stopped outside any API call (host error, preemption): TERMINATED, not serving. */
  terminate(path: string): void {
    const r = this.store.get(path);
    const g = this.state.get(path);
    if (!r || !g) return;
    r.status = 'TERMINATED';
    g.terminatedAt = Date.now();
    g.servesAt = null;
  }

  /** Passing the health check right now: RUNNING and its workload serving. */
  serving(path: string): boolean {
    const r = this.store.get(path);
    const g = this.state.get(path);
    return !!r && !!g && r.status === 'RUNNING' && g.servesAt !== null && g.servesAt <= Date.now();
  }

  /** VMs a MIG owns: those whose `created-by` metadata names it. */
  members(mig: Resource): Resource[] {
    return this.store.all('instances').filter((i) => createdBy(i) === mig.selfLink);
  }

  /**
   * Brings a MIG to its target size at once (insert / resize); repairs wait for `tick`. A VM
   * that would go over a quota is not created: the group records the error (`listErrors`),
   * stays unstable and retries on its repair schedule.
   */
  resizeNow(zoneScope: string, mig: Resource): void {
    const members = this.members(mig);
    const target = Number(mig.targetSize ?? 0);
    const template = this.store.get(templatePath(mig));
    let created = members.length;
    for (; created < target && template; created++) {
      const name = `${String(mig.baseInstanceName)}-${randomBytes(2).toString('hex')}`;
      try {
        this.quotas.checkVm(
          zoneScope.split('/').pop() as string,
          (template.properties ?? {}) as Record<string, unknown>,
        );
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        const errors = this.errors.get(pathOf(mig)) ?? [];
        errors.push({
          timestamp: new Date().toISOString(),
          instanceActionDetails: { action: 'CREATING', instance: `${LINK_BASE}${zoneScope}/instances/${name}` },
          error: { code: e.reason, message: e.message },
        });
        this.errors.set(pathOf(mig), errors.slice(-50));
        break;
      }
      this.createInstance(zoneScope, name, template, mig.selfLink);
    }
    for (const extra of members.slice(target)) this.deleteInstance(pathOf(extra));
    const have = Math.min(created, target);
    mig.currentActions = { none: have, creating: target - have };
    mig.status = { isStable: have === target };
  }

  errorsOf(mig: Resource): GroupError[] {
    return [...(this.errors.get(pathOf(mig)) ?? [])].reverse();
  }

  deleteGroup(mig: Resource): void {
    this.errors.delete(pathOf(mig));
    for (const m of this.members(mig)) this.deleteInstance(pathOf(m));
  }

  private tick(): void {
    const now = Date.now();
    const t = this.timings();
    for (const instance of this.store.all('instances')) {
      const g = this.state.get(pathOf(instance));
      if (!g || instance.status === 'TERMINATED') continue;
      const age = now - g.createdAt;
      instance.status = age >= t.bootMs ? 'RUNNING' : age >= t.bootMs / 2 ? 'STAGING' : 'PROVISIONING';
    }
    for (const mig of this.store.all('instanceGroupManagers')) {
      const zoneScope = pathOf(mig).split('/instanceGroupManagers/')[0];
      const template = this.store.get(templatePath(mig));
      for (const m of this.members(mig)) {
        const g = this.state.get(pathOf(m));
        if (template && g?.terminatedAt !== undefined && now - g.terminatedAt >= t.repairDelayMs) {
          this.deleteInstance(pathOf(m));
          this.createInstance(zoneScope, m.name, template, mig.selfLink);
        }
      }
      const short = Number(mig.targetSize ?? 0) - this.members(mig).length;
      const key = pathOf(mig);
      const since = this.shortSince.get(key);
      if (short <= 0) {
        this.shortSince.delete(key);
      } else if (since === undefined) {
        this.shortSince.set(key, now);
      } else if (now - since >= t.repairDelayMs) {
        this.shortSince.delete(key);
        this.resizeNow(zoneScope, mig);
      }
    }
  }
}

export function pathOf(r: Resource): string {
  return r.selfLink.slice(LINK_BASE.length);
}

function createdBy(instance: Resource): string | undefined {
  const items = (instance.metadata as { items?: MetadataItem[] } | undefined)?.items ?? [];
  return items.find((i) => i.key === 'created-by')?.value;
}

function templatePath(mig: Resource): string {
  const ref = String(mig.instanceTemplate ?? '');
  return ref.startsWith(LINK_BASE) ? ref.slice(LINK_BASE.length) : ref;
}
