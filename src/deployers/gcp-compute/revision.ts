/**
 * What serves one revision: an instance template and a health check (staged), a zonal managed
 * instance group of `resources.replicas` VMs and a backend service over it (warmed). Every
 * step first looks at what exists, so a repeated or resumed call only does what is missing.
 */
import type { DeployerDeployment, DeployerRevision, VerbOptions } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { done, pending } from '../kit/poll.js';
import { waitOutDrain } from '../kit/progress.js';
import { waitForHealthyVms } from '../kit/vm-health.js';
import type { GceApi, Json, KindName } from './api.js';
import type { Settings } from './config.js';
import { checkQuotas, offeredMachineType } from './capacity.js';
import { describe, revisionNames, type RevisionNames } from './names.js';

const QUOTA_CODES = new Set(['QUOTA_EXCEEDED', 'quotaExceeded']);
import { templateBody, validateArtifact } from './template.js';

export interface RevisionTarget {
  environmentId: string;
  deployment: DeployerDeployment;
  revision: DeployerRevision;
  names: RevisionNames;
}

export function targetOf(
  environmentId: string,
  deployment: DeployerDeployment,
  revision: DeployerRevision,
): RevisionTarget {
  return { environmentId, deployment, revision, names: revisionNames(environmentId, revision.revision_id) };
}

function marker(t: RevisionTarget): string {
  return describe({
    environment: t.environmentId,
    deployment: t.deployment.deployment_id,
    revision: t.revision.revision_id,
  });
}

export class RevisionResources {
  constructor(
    private readonly api: GceApi,
    private readonly settings: Settings,
  ) {}

  /** Template and health check: both immutable, like the revision they describe. */
  async stage(t: RevisionTarget, signal: AbortSignal): Promise<Json> {
    return (await this.staged(t, signal)).outputs;
  }

  /** Stages, after checking the zone offers the machine type; returns the outputs and that type. */
  private async staged(t: RevisionTarget, signal: AbortSignal): Promise<{ outputs: Json; machine: Json }> {
    validateArtifact(t.revision);
    const body = templateBody(this.settings, t.environmentId, t.deployment, t.revision, t.names.template);
    const machineType = String((body.properties as Json).machineType);
    const machine = await offeredMachineType(this.api, t.revision.revision_id, machineType, signal);
    await Promise.all([
      this.api.insert('instanceTemplates', body, signal),
      this.insert(t, 'healthChecks', t.names.healthCheck, signal, {
        type: 'HTTP',
        httpHealthCheck: { port: this.settings.port, requestPath: t.revision.health.http_path },
        checkIntervalSec: 5,
        timeoutSec: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      }),
    ]);
    return {
      outputs: { instance_template: t.names.template, health_check: t.names.healthCheck, machine_type: machineType },
      machine,
    };
  }

  /** Group at its target size and serving behind its backend service; resolves once healthy. */
  async warm(t: RevisionTarget, opts: VerbOptions): Promise<{ outputs: Json; endpoint?: string }> {
    const { signal } = opts;
    const since = Date.now();
    const { machine } = await this.staged(t, signal);
    const replicas = Math.max(1, t.revision.resources.replicas);
    const group = await this.ensureGroup(t, replicas, machine, signal);
    const groupLink = String(
      group.instanceGroup ??
        this.api.link('instanceGroupManagers', t.names.group).replace('/instanceGroupManagers/', '/instanceGroups/'),
    );
    await this.ensureBackendService(t, groupLink, signal);
    const healthy = await this.waitHealthy(t, groupLink, replicas, since, opts);
    const first = healthy[0];
    return {
      outputs: {
        instance_group: t.names.group,
        backend_service: t.names.backendService,
        instances: healthy.map((h) => h.instance.split('/').pop()),
      },
      ...(first?.ipAddress ? { endpoint: `http://${first.ipAddress}:${this.settings.port}` } : {}),
    };
  }

  /** Creates one of the revision's resources: its name, the marker that says whose it is, then `body`. */
  private insert(t: RevisionTarget, kind: KindName, name: string, signal: AbortSignal, body: Json): Promise<boolean> {
    return this.api.insert(kind, { name, description: marker(t), ...body }, signal);
  }

  private async ensureGroup(t: RevisionTarget, replicas: number, machine: Json, signal: AbortSignal): Promise<Json> {
    let group = await this.api.get('instanceGroupManagers', t.names.group, signal);
    // Quotas are checked before the group is created or grown: a group accepts any size and retries forever.
    const more = replicas - Number(group?.targetSize ?? 0);
    await checkQuotas(this.api, t.revision.revision_id, machine, more, this.settings.external_ip, signal);
    if (!group) {
      await this.insert(t, 'instanceGroupManagers', t.names.group, signal, {
        baseInstanceName: t.names.group.replace(/-ig$/, ''),
        instanceTemplate: this.api.link('instanceTemplates', t.names.template),
        targetSize: replicas,
        namedPorts: [{ name: 'http', port: this.settings.port }],
      });
      group = await this.api.get('instanceGroupManagers', t.names.group, signal);
    } else if (Number(group.targetSize) !== replicas) {
      await this.api.resize(t.names.group, replicas, signal);
    }
    if (!group)
      throw new ProviderError(`instance group ${t.names.group} is not visible yet after its creation`, {
        retryable: true,
      });
    return group;
  }

  private async ensureBackendService(t: RevisionTarget, groupLink: string, signal: AbortSignal): Promise<void> {
    const backend = { group: groupLink, balancingMode: 'UTILIZATION', maxUtilization: 0.8, capacityScaler: 1 };
    const existing = await this.api.get('backendServices', t.names.backendService, signal);
    if (!existing) {
      await this.insert(t, 'backendServices', t.names.backendService, signal, {
        protocol: 'HTTP',
        portName: 'http',
        loadBalancingScheme: this.settings.load_balancing_scheme,
        healthChecks: [this.api.link('healthChecks', t.names.healthCheck)],
        backends: [backend],
        connectionDraining: { drainingTimeoutSec: t.revision.drain_seconds },
        timeoutSec: 30,
      });
      return;
    }
    const backends = (existing.backends as Array<{ group?: string }> | undefined) ?? [];
    if (!backends.some((b) => sameGroup(b.group, groupLink))) {
      // A backend service patch must carry the fingerprint last read (else 412 conditionNotMet).
      await this.api.patch(
        'backendServices',
        t.names.backendService,
        { backends: [backend], fingerprint: existing.fingerprint },
        signal,
      );
    }
  }

  /**
   * Polls the load balancer's view until every VM passes its health check, reporting the
   * backend's health (`1/2 VMs HEALTHY in the backend service`, last: a VM's state) as it goes.
   * While VMs are missing, the group's own errors are read too: a VM it cannot create for a quota
   * (taken by someone else since the check) fails the warm at once rather than at the timeout.
   */
  private waitHealthy(t: RevisionTarget, groupLink: string, replicas: number, since: number, opts: VerbOptions) {
    return waitForHealthyVms(
      {
        revision: t.revision,
        replicas,
        timing: this.settings,
        check: `the health check of ${t.names.backendService}`,
        unit: 'VMs HEALTHY in the backend service',
        poll: async (progress) => {
          const health = await this.api.getHealth(t.names.backendService, groupLink, opts.signal);
          if (health.length < replicas) await this.failOnGroupError(t, since, opts.signal);
          const healthy = health
            .filter((h) => h.healthState === 'HEALTHY')
            .sort((a, b) => a.instance.localeCompare(b.instance));
          const other = health.find((h) => h.healthState !== 'HEALTHY');
          progress.set(
            Math.min(healthy.length, replicas),
            other
              ? `${other.instance.split('/').pop()} ${other.healthState ?? 'UNKNOWN'}`
              : health.length === 0
                ? `no VM of ${t.names.group} in the health report yet`
                : undefined,
          );
          return healthy.length >= replicas ? done(healthy) : pending(`${healthy.length} of ${replicas}`);
        },
        timedOut: (detail, limitS) =>
          new ProviderError(
            `revision "${t.revision.revision_id}": ${detail} VMs in ${t.names.group} passed the load balancer's ` +
              `health check (${t.revision.health.http_path} on port ${this.settings.port}) within ${limitS} s; check the VMs' serial ` +
              'console for the artifact failing to start, and that a firewall rule admits 35.191.0.0/16 and 130.211.0.0/22',
            { retryable: true },
          ),
      },
      opts,
    );
  }

  private async failOnGroupError(t: RevisionTarget, since: number, signal: AbortSignal): Promise<void> {
    const error = await this.api.groupError(t.names.group, since, signal);
    if (error && QUOTA_CODES.has(error.code)) {
      throw new ProviderError(
        `revision "${t.revision.revision_id}": instance group ${t.names.group} cannot create its VMs: ${error.message}; ` +
          'request a quota increase or lower resources.replicas',
      );
    }
  }

  /**
   * Takes the group out of its backend service (the balancer drains its connections for the
   * service's `connectionDraining.drainingTimeoutSec`, set from drain_seconds), waits that
   * long, then scales the group to zero. A repeated drain finds nothing to do.
   */
  async drain(t: RevisionTarget, opts: VerbOptions): Promise<void> {
    const { signal } = opts;
    const service = await this.api.get('backendServices', t.names.backendService, signal);
    const backends = (service?.backends as unknown[] | undefined) ?? [];
    if (service && backends.length > 0) {
      // A full update, not a patch: the SDK's JSON encoding drops an empty `backends` array.
      const { backends: _dropped, ...rest } = service;
      await this.api.update('backendServices', t.names.backendService, rest, signal);
      await waitOutDrain(t.revision, opts, {
        what: `connections to "${t.revision.revision_id}" to drain from ${t.names.backendService}`,
      });
    }
    const group = await this.api.get('instanceGroupManagers', t.names.group, signal);
    if (group && Number(group.targetSize) > 0) await this.api.resize(t.names.group, 0, signal);
  }

  /** Deletes in dependency order; each delete treats "already gone" as done. */
  async archive(t: RevisionTarget, signal: AbortSignal): Promise<void> {
    await this.api.delete('backendServices', t.names.backendService, signal);
    await Promise.all([
      this.api.delete('instanceGroupManagers', t.names.group, signal),
      this.api.delete('healthChecks', t.names.healthCheck, signal),
    ]);
    await this.api.delete('instanceTemplates', t.names.template, signal);
  }
}

export function sameGroup(a: string | undefined, b: string): boolean {
  const tail = (s: string) => s.replace(/^.*\/projects\//, 'projects/');
  return a !== undefined && tail(a) === tail(b);
}
