/**
 * What serves one revision: a Standard public IP with a DNS label (the Traffic Manager
 * endpoint's target), a Standard load balancer over it with an HTTP health probe on the
 * revision's `health.http_path`, and `resources.replicas` VMs, each with a NIC in the LB's
 * backend pool. Every step looks first and PUTs only what is missing or Failed; ARM PUTs are
 * create-or-update, so a repeated or resumed call converges to the same resources.
 */
import type { DeployerDeployment, DeployerRevision, VerbOptions } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import type { Settings } from './config.js';
import { vmSizeFor } from './config.js';
import { customData, throwawaySshKey, validateArtifact } from './custom-data.js';
import { powerOf, vmModel, type ExistingOsProfile } from './vm-model.js';

export { powerOf } from './vm-model.js';
import { arm, armOrNull } from './errors.js';
import { SizeOffers } from './size-offers.js';
import { revisionNames, revisionTags, type RevisionNames } from './names.js';
import type { AzureClients } from './sdk.js';
import { done, pending } from '../kit/poll.js';
import { waitForHealthyVms } from '../kit/vm-health.js';

/** The part of an ARM network collection (public IPs, load balancers, NICs) that ensureNetwork uses. */
interface NetworkOperations<R, B> {
  get(resourceGroup: string, name: string, options: { abortSignal: AbortSignal }): Promise<R>;
  beginCreateOrUpdateAndWait(resourceGroup: string, name: string, body: B, options: object): Promise<R>;
}

export interface RevisionTarget {
  environmentId: string;
  deployment: DeployerDeployment;
  revision: DeployerRevision;
  names: RevisionNames;
}

export const RULE = 'http';
const IP_CONFIG = 'ipconfig';

export class RevisionResources {
  private readonly rg: string;
  private sshKey: string | null = null;
  private readonly offers: SizeOffers;

  constructor(
    private readonly c: AzureClients,
    private readonly s: Settings,
  ) {
    this.rg = s.resource_group;
    this.offers = SizeOffers.for(c, s);
  }

  /** What names are unique within: `subscription/resource group`. */
  get scope(): string {
    return `${this.s.subscription_id}/${this.rg}`;
  }

  target(environmentId: string, deployment: DeployerDeployment, revision: DeployerRevision): RevisionTarget {
    return {
      environmentId,
      deployment,
      revision,
      names: revisionNames(this.scope, environmentId, revision.revision_id),
    };
  }

  id(provider: string, name: string): string {
    return `/subscriptions/${this.s.subscription_id}/resourceGroups/${this.rg}/providers/${provider}/${name}`;
  }

  private lro(signal: AbortSignal) {
    return { updateIntervalInMs: this.s.lro_poll_interval_ms, abortSignal: signal };
  }

  /** Checks the artifact, the size and that the subnet exists, before anything is created. */
  async stage(t: RevisionTarget, signal: AbortSignal): Promise<Record<string, unknown>> {
    validateArtifact(t.revision);
    // Limits before any call: custom data over 65,535 bytes would only be refused at the VM PUT.
    customData(t.revision, this.s);
    const size = vmSizeFor(t.revision.resources, this.s.vm_size);
    await this.offers.ensureOffered(size, signal);
    const m = /\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/.exec(this.s.subnet_id)!;
    const rg = this.s.subnet_id.split('/')[4];
    const subnet = await armOrNull(`read subnet ${m[2]}`, signal, () =>
      this.c.network.subnets.get(rg, m[1], m[2], { abortSignal: signal }),
    );
    if (!subnet) throw new ProviderError(`subnet ${this.s.subnet_id} does not exist; create it or fix subnet_id`);
    return { vm_size: size, subnet_id: this.s.subnet_id, public_ip: t.names.publicIp };
  }

  async warm(t: RevisionTarget, opts: VerbOptions): Promise<{ outputs: Record<string, unknown>; endpoint: string }> {
    const { signal } = opts;
    await this.stage(t, signal);
    const fqdn = await this.ensureFrontDoor(t, signal);
    const replicas = Math.max(1, t.revision.resources.replicas);
    await Promise.all(Array.from({ length: replicas }, (_, i) => this.ensureVm(t, i, signal)));
    const vms = await this.waitHealthy(t, replicas, opts);
    return {
      outputs: {
        public_ip: t.names.publicIp,
        load_balancer: t.names.loadBalancer,
        fqdn,
        vms,
        vm_size: vmSizeFor(t.revision.resources, this.s.vm_size),
      },
      endpoint: `http://${fqdn}:${this.s.frontend_port}`,
    };
  }

  /** The public IP and the load balancer in front of the revision's VMs; returns the IP's FQDN. */
  private async ensureFrontDoor(t: RevisionTarget, signal: AbortSignal): Promise<string> {
    const n = t.names;
    const tags = revisionTags(t.environmentId, t.deployment.deployment_id, t.revision.revision_id);
    // Typed by what is read back, so it holds with the stand-in SDK types too.
    const ip = await this.ensureNetwork<{ dnsSettings?: { fqdn?: string } }, unknown>(
      this.c.network.publicIPAddresses,
      `public IP ${n.publicIp}`,
      n.publicIp,
      signal,
      {
        location: this.s.location,
        tags,
        sku: { name: 'Standard', tier: 'Regional' },
        publicIPAllocationMethod: 'Static',
        publicIPAddressVersion: 'IPv4',
        dnsSettings: { domainNameLabel: n.base },
      },
    );
    const lbId = this.id('Microsoft.Network/loadBalancers', n.loadBalancer);
    const fe = { id: `${lbId}/frontendIPConfigurations/fe` };
    const pool = { id: `${lbId}/backendAddressPools/pool` };
    await this.ensureNetwork(this.c.network.loadBalancers, `load balancer ${n.loadBalancer}`, n.loadBalancer, signal, {
      location: this.s.location,
      tags,
      sku: { name: 'Standard', tier: 'Regional' },
      frontendIPConfigurations: [
        { name: 'fe', publicIPAddress: { id: this.id('Microsoft.Network/publicIPAddresses', n.publicIp) } },
      ],
      backendAddressPools: [{ name: 'pool' }],
      probes: [
        {
          name: 'health',
          protocol: 'Http',
          port: this.s.port,
          requestPath: t.revision.health.http_path,
          intervalInSeconds: 5,
          numberOfProbes: 2,
          probeThreshold: 2,
        },
      ],
      loadBalancingRules: [
        {
          name: RULE,
          protocol: 'Tcp',
          frontendPort: this.s.frontend_port,
          backendPort: this.s.port,
          frontendIPConfiguration: fe,
          backendAddressPool: pool,
          probe: { id: `${lbId}/probes/health` },
          disableOutboundSnat: true,
          idleTimeoutInMinutes: 4,
        },
      ],
      // VMs behind a Standard LB have no outbound access without one: they must pull images.
      outboundRules: [
        {
          name: 'outbound',
          protocol: 'All',
          frontendIPConfigurations: [fe],
          backendAddressPool: pool,
          allocatedOutboundPorts: 1024,
        },
      ],
    });
    const fqdn = ip.dnsSettings?.fqdn;
    if (!fqdn) throw new ProviderError(`public IP ${n.publicIp} has no DNS name yet`, { retryable: true });
    return fqdn;
  }

  /** VM `i` and its NIC: created when missing or Failed, started when stopped or deallocated. */
  private async ensureVm(t: RevisionTarget, i: number, signal: AbortSignal): Promise<void> {
    const n = t.names;
    const tags = revisionTags(t.environmentId, t.deployment.deployment_id, t.revision.revision_id);
    const pool = `${this.id('Microsoft.Network/loadBalancers', n.loadBalancer)}/backendAddressPools/pool`;
    await this.ensureNetwork(this.c.network.networkInterfaces, `NIC ${n.nic(i)}`, n.nic(i), signal, {
      location: this.s.location,
      tags,
      ipConfigurations: [
        {
          name: IP_CONFIG,
          subnet: { id: this.s.subnet_id },
          privateIPAllocationMethod: 'Dynamic',
          loadBalancerBackendAddressPools: [{ id: pool }],
        },
      ],
      ...(this.s.network_security_group_id ? { networkSecurityGroup: { id: this.s.network_security_group_id } } : {}),
    });
    const vm = await armOrNull(`read VM ${n.vm(i)}`, signal, () =>
      this.c.compute.virtualMachines.get(this.rg, n.vm(i), { expand: 'instanceView', abortSignal: signal }),
    );
    if (!vm || vm.provisioningState === 'Failed') {
      const body = this.vmBody(t, i, tags, vm?.osProfile);
      await arm(`create VM ${n.vm(i)}`, signal, () =>
        this.c.compute.virtualMachines.createOrUpdate(this.rg, n.vm(i), body, this.lro(signal)),
      );
      return;
    }
    const power = powerOf(vm.instanceView);
    if (power === 'stopped' || power === 'deallocated' || power === 'deallocating' || power === 'stopping') {
      await arm(`start VM ${n.vm(i)}`, signal, () =>
        this.c.compute.virtualMachines.start(this.rg, n.vm(i), this.lro(signal)),
      );
    }
  }

  /** A resource as it is, or created (again, when an earlier attempt left it Failed). */
  /** A network resource of the revision: read, and created (PUT, waited for) when missing or Failed. */
  private ensureNetwork<R, B>(
    ops: NetworkOperations<R, B>,
    what: string,
    name: string,
    signal: AbortSignal,
    body: B,
  ): Promise<R> {
    return this.ensure(what, signal, {
      read: () => ops.get(this.rg, name, { abortSignal: signal }),
      create: () => ops.beginCreateOrUpdateAndWait(this.rg, name, body, this.lro(signal)),
    });
  }

  private async ensure<T>(
    what: string,
    signal: AbortSignal,
    ops: { read: () => Promise<T> | T; create: () => Promise<T> | T },
  ): Promise<T> {
    const found = await armOrNull(`read ${what}`, signal, ops.read);
    if (found && (found as { provisioningState?: string }).provisioningState !== 'Failed') return found;
    return arm(`create ${what}`, signal, ops.create);
  }

  /** The VM's model (vm-model.ts), with the throwaway key generated once per deployer. */
  private vmBody(t: RevisionTarget, i: number, tags: Record<string, string>, existing?: ExistingOsProfile) {
    this.sshKey ??= this.s.ssh_public_key ?? throwawaySshKey();
    const nicId = this.id('Microsoft.Network/networkInterfaces', t.names.nic(i));
    return vmModel(this.s, { target: t, index: i, tags, existing, sshKey: this.sshKey, nicId });
  }

  /**
   * Per VM: running (instance view) and Up in the load balancer's health probe. `vmNames`
   * defaults to the revision's `replicas` names.
   */
  async health(
    t: RevisionTarget,
    vmNames: string[],
    signal: AbortSignal,
  ): Promise<Array<{ vm: string; power: string; up: boolean }>> {
    const up = await this.probeUp(t.names.loadBalancer, signal);
    return Promise.all(
      vmNames.map(async (vm) => {
        const view = await armOrNull(`read VM ${vm} instance view`, signal, () =>
          this.c.compute.virtualMachines.instanceView(this.rg, vm, { abortSignal: signal }),
        );
        const nicName = vm.replace(/-vm-(\d+)$/, '-nic-$1');
        const ipConfig =
          `${this.id('Microsoft.Network/networkInterfaces', nicName)}/ipConfigurations/${IP_CONFIG}`.toLowerCase();
        return { vm, power: view ? powerOf(view) : 'absent', up: up.has(ipConfig) };
      }),
    );
  }

  /** NIC ip-configuration ids (lower case) the load balancer's probe reports Up. */
  async probeUp(loadBalancer: string, signal: AbortSignal): Promise<Set<string>> {
    const h = await armOrNull(`read health of load balancer ${loadBalancer}`, signal, () =>
      this.c.network.loadBalancerLoadBalancingRules.beginHealthAndWait(this.rg, loadBalancer, RULE, this.lro(signal)),
    );
    return new Set(
      (h?.loadBalancerBackendAddresses ?? [])
        .filter((a: { state?: string }) => a.state === 'Up')
        .map((a: { networkInterfaceIPConfigurationId?: string }) =>
          String(a.networkInterfaceIPConfigurationId).toLowerCase(),
        ),
    );
  }

  /** Polls until every VM runs and is Up in the health probe, reporting `1/2 VMs up` and a VM that is not. */
  private waitHealthy(t: RevisionTarget, replicas: number, opts: VerbOptions): Promise<string[]> {
    const names = Array.from({ length: replicas }, (_, i) => t.names.vm(i));
    return waitForHealthyVms(
      {
        revision: t.revision,
        replicas,
        timing: this.s,
        check: `the health probe of ${t.names.loadBalancer}`,
        unit: 'VMs running and up in the health probe',
        poll: async (progress, limitS) => {
          const h = await this.health(t, names, opts.signal);
          const healthy = h.filter((x) => x.power === 'running' && x.up);
          const other = h.find((x) => x.power !== 'running' || !x.up);
          progress.set(healthy.length, other && `${other.vm} ${other.power}/${other.up ? 'up' : 'down'}`);
          const detail =
            `${healthy.length} of ${replicas} VMs passed the load balancer's health probe ` +
            `(${t.revision.health.http_path} on port ${this.s.port}) within ${limitS} s (${h.map((x) => `${x.vm} ${x.power}${x.up ? '/up' : '/down'}`).join(', ')})`;
          return healthy.length >= replicas ? done(names) : pending(detail);
        },
        timedOut: (detail) =>
          new ProviderError(
            `revision "${t.revision.revision_id}": ${detail}; ` +
              "check the VMs' boot diagnostics for the artifact failing to start, and that the subnet's network security group admits the AzureLoadBalancer service tag",
            { retryable: true },
          ),
      },
      opts,
    );
  }

  /** VM names of the revision that exist now, found by tag (covers any replica count). */
  async vmsOf(t: RevisionTarget, signal: AbortSignal): Promise<string[]> {
    return namesOf(t, 'list VMs', signal, () => this.c.compute.virtualMachines.list(this.rg, { abortSignal: signal }));
  }

  /** Stops paying for the VMs once the revision is out of every split; warm starts them again. */
  async deallocate(t: RevisionTarget, signal: AbortSignal): Promise<void> {
    const vms = await this.vmsOf(t, signal);
    await Promise.all(
      vms.map(async (name) => {
        const view = await armOrNull(`read VM ${name} instance view`, signal, () =>
          this.c.compute.virtualMachines.instanceView(this.rg, name, { abortSignal: signal }),
        );
        if (view && powerOf(view) !== 'deallocated') {
          await arm(`deallocate VM ${name}`, signal, () =>
            this.c.compute.virtualMachines.deallocate(this.rg, name, this.lro(signal)),
          );
        }
      }),
    );
  }

  /** Deletes in dependency order (VMs, NICs, load balancer, public IP); already gone is success. */
  async archive(t: RevisionTarget, signal: AbortSignal): Promise<void> {
    const vms = await this.vmsOf(t, signal);
    await Promise.all(
      vms.map((name) =>
        arm(`delete VM ${name}`, signal, () => this.c.compute.virtualMachines.delete(this.rg, name, this.lro(signal))),
      ),
    );
    const nics = await namesOf(t, 'list NICs', signal, () =>
      this.c.network.networkInterfaces.list(this.rg, { abortSignal: signal }),
    );
    await Promise.all(
      nics.map((name) =>
        arm(`delete NIC ${name}`, signal, () =>
          this.c.network.networkInterfaces.beginDeleteAndWait(this.rg, name, this.lro(signal)),
        ),
      ),
    );
    await arm(`delete load balancer ${t.names.loadBalancer}`, signal, () =>
      this.c.network.loadBalancers.beginDeleteAndWait(this.rg, t.names.loadBalancer, this.lro(signal)),
    );
    await arm(`delete public IP ${t.names.publicIp}`, signal, () =>
      this.c.network.publicIPAddresses.beginDeleteAndWait(this.rg, t.names.publicIp, this.lro(signal)),
    );
  }
}

/** The names, sorted, of the listed resources tagged as the revision's (covers any replica count). */
async function namesOf(
  t: RevisionTarget,
  what: string,
  signal: AbortSignal,
  list: () => AsyncIterable<{ name?: string; tags?: Record<string, string> }>,
): Promise<string[]> {
  const names: string[] = [];
  await arm(what, signal, async () => {
    for await (const r of list()) {
      if (
        r.tags?.['bp-revision'] === t.revision.revision_id &&
        r.tags?.['bp-environment'] === t.environmentId &&
        r.name
      )
        names.push(r.name);
    }
  });
  return names.sort();
}
