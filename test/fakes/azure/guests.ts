/**
 * What happens inside the fake's VMs and load balancers over time: a VM's power state goes
 * starting -> running after `bootMs`; its workload (the custom data's container or program)
 * serves `healthyAfterMs` later, unless it names an image the fake cannot pull; a load
 * balancer's health probe reports a backend Up only while its VM serves.
 */
import type { ArmResource, Store } from './store.js';

export interface GuestTimings {
  /** From a VM's creation (or start) to PowerState/running. */
  bootMs: number;
  /** From running to passing the load balancer's health probe. */
  healthyAfterMs: number;
}

type Power = 'starting' | 'running' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated';

interface Guest {
  power: Power;
  since: number;
  /** The custom data names an image that cannot be pulled, or its boot fails: the workload never serves. */
  broken: boolean;
}

/** Images under the reserved `.invalid` TLD (RFC 2606) stand for images that cannot be pulled. */
export function imageOf(customData: string | undefined): string | null {
  if (!customData) return null;
  const text = Buffer.from(customData, 'base64').toString('utf8');
  const m = /docker run [^\n]*?'([^'\s]+)'\s*$/m.exec(text);
  return m ? m[1] : null;
}

/**
 * Why the custom data's boot fails before the workload serves (BEHAVIOUR.md, "Guests"), or
 * null: an Instance Metadata Service identity token (`/metadata/identity/oauth2/token`) needs a
 * managed identity on the VM, and an Azure Container Registry image pulls only after a
 * `docker login` to its registry. The fake checks these preconditions; it does not run scripts.
 */
export function bootFailure(customData: string | undefined, hasIdentity: boolean): string | null {
  if (!customData) return null;
  const text = Buffer.from(customData, 'base64').toString('utf8');
  if (text.includes('/metadata/identity/oauth2/token') && !hasIdentity)
    return 'the Instance Metadata Service has no identity token: the VM has no managed identity';
  const image = imageOf(customData);
  const host = image?.split('/')[0] ?? '';
  if (
    /\.azurecr\.(io|cn|us)$/.test(host) &&
    !text.split('\n').some((l) => l.includes('docker login') && l.includes(host))
  )
    return `docker pull ${image}: unauthorized: authentication required`;
  return null;
}

export class Guests {
  private readonly guests = new Map<string, Guest>();
  /** custom data per VM id: write-only in ARM, never returned by GET. */
  readonly customData = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly timings: () => GuestTimings,
    private readonly unpullable: Set<string>,
  ) {}

  private pullable(image: string | null): boolean {
    if (image === null) return true;
    const host = image.split('/')[0];
    return !(host.includes('.') && host.endsWith('.invalid')) && !this.unpullable.has(image);
  }

  boot(vmId: string, customData: string | undefined, hasIdentity = false): void {
    const key = vmId.toLowerCase();
    if (customData !== undefined) this.customData.set(key, customData);
    const data = this.customData.get(key);
    this.guests.set(key, {
      power: 'starting',
      since: Date.now(),
      broken: !this.pullable(imageOf(data)) || bootFailure(data, hasIdentity) !== null,
    });
  }

  forget(vmId: string): void {
    this.guests.delete(vmId.toLowerCase());
    this.customData.delete(vmId.toLowerCase());
  }

  setPower(vmId: string, power: Power): void {
    const g = this.guests.get(vmId.toLowerCase());
    if (g) Object.assign(g, { power, since: Date.now() });
  }

  power(vmId: string): Power | null {
    const g = this.guests.get(vmId.toLowerCase());
    if (!g) return null;
    if (g.power === 'starting' && Date.now() - g.since >= this.timings().bootMs)
      Object.assign(g, { power: 'running', since: g.since + this.timings().bootMs });
    return g.power;
  }

  serving(vmId: string): boolean {
    const g = this.guests.get(vmId.toLowerCase());
    return this.power(vmId) === 'running' && !!g && !g.broken && Date.now() - g.since >= this.timings().healthyAfterMs;
  }

  /** `GET …/virtualMachines/NAME/instanceView` (and `$expand=instanceView`). */
  instanceView(vm: ArmResource): Record<string, unknown> {
    const state = String(vm.properties.provisioningState ?? 'Succeeded').toLowerCase();
    const power = this.power(vm.id) ?? 'stopped';
    const display: Record<Power, string> = {
      starting: 'VM starting',
      running: 'VM running',
      stopping: 'VM stopping',
      stopped: 'VM stopped',
      deallocating: 'VM deallocating',
      deallocated: 'VM deallocated',
    };
    return {
      computerName: (vm.properties.osProfile as { computerName?: string } | undefined)?.computerName,
      osName: 'ubuntu',
      statuses: [
        {
          code: `ProvisioningState/${state}`,
          level: state === 'failed' ? 'Error' : 'Info',
          displayStatus: `Provisioning ${state}`,
        },
        { code: `PowerState/${power}`, level: 'Info', displayStatus: display[power] },
      ],
    };
  }

  /** NIC ip configurations that name a backend pool of `lb`. */
  backendsOf(
    lb: ArmResource,
  ): Array<{ nic: ArmResource; ipConfig: { id: string; properties: Record<string, unknown> } }> {
    const pools = new Set(
      ((lb.properties.backendAddressPools as Array<{ id: string }> | undefined) ?? []).map((p) => p.id.toLowerCase()),
    );
    const out: Array<{ nic: ArmResource; ipConfig: { id: string; properties: Record<string, unknown> } }> = [];
    for (const nic of this.store.list('Microsoft.Network/networkInterfaces')) {
      for (const ipConfig of (nic.properties.ipConfigurations as Array<{
        id: string;
        properties: Record<string, unknown>;
      }>) ?? []) {
        const refs = (ipConfig.properties.loadBalancerBackendAddressPools as Array<{ id: string }> | undefined) ?? [];
        if (refs.some((r) => pools.has(r.id.toLowerCase()))) out.push({ nic, ipConfig });
      }
    }
    return out;
  }

  /** `POST …/loadBalancers/LB/loadBalancingRules/RULE/health`: the probe's view of each backend. */
  ruleHealth(lb: ArmResource): Record<string, unknown> {
    const hasProbe = ((lb.properties.probes as unknown[] | undefined) ?? []).length > 0;
    const addresses = this.backendsOf(lb).map(({ nic, ipConfig }) => {
      const vmId = (nic.properties.virtualMachine as { id?: string } | undefined)?.id;
      const up = hasProbe && !!vmId && this.serving(vmId);
      return {
        ipAddress: ipConfig.properties.privateIPAddress,
        networkInterfaceIPConfigurationId: ipConfig.id,
        state: up ? 'Up' : 'Down',
        reason: up ? 'Up' : vmId ? 'Probe failed' : 'No virtual machine attached',
      };
    });
    return {
      up: addresses.filter((a) => a.state === 'Up').length,
      down: addresses.filter((a) => a.state === 'Down').length,
      loadBalancerBackendAddresses: addresses,
    };
  }

  /** Traffic Manager's probe of an endpoint whose target is a public IP in front of a load balancer. */
  endpointMonitorStatus(targetResourceId: string | undefined, enabled: boolean): string {
    if (!enabled) return 'Disabled';
    const ip = targetResourceId ? this.store.get(targetResourceId) : undefined;
    if (!ip) return 'Stopped';
    const frontend = (ip.properties.ipConfiguration as { id?: string } | undefined)?.id;
    const lb = frontend ? this.store.get(frontend.split('/').slice(0, 9).join('/')) : undefined;
    if (!lb) return 'Degraded';
    return Number(this.ruleHealth(lb).up) > 0 ? 'Online' : 'Degraded';
  }
}
