/**
 * The custom methods the fake serves beside get/list/insert/patch/update/delete:
 * `backendServices.getHealth`, `instanceGroupManagers.resize`, `.listManagedInstances` and
 * `.listErrors`. BEHAVIOUR.md cites each.
 */
import type { CallContext } from './collections.js';
import { pathOf, type Guests } from './guest.js';
import { validateMessage } from './schema.js';
import { ApiError, canonicalPath, paginate, requestKey, type Resource, type Store } from './store.js';

export class Verbs {
  constructor(
    private readonly store: Store,
    private readonly guests: Guests,
    private readonly pageSize: () => number,
    /** Starts (or, for a repeated requestId, returns) the verb's operation. */
    private readonly operation: (c: CallContext, type: string, target: string) => unknown,
  ) {}

  handle(c: CallContext, path: string): unknown {
    const r = this.store.require(path);
    const verb = `${c.collection}.${c.verb}`;
    switch (verb) {
      case 'backendServices.getHealth':
        return this.getHealth(c, r);
      case 'instanceGroupManagers.resize':
        return this.resize(c, r, path);
      case 'instanceGroupManagers.listManagedInstances': {
        const members = this.guests.members(r).map((m) => ({
          instance: m.selfLink,
          id: m.id,
          instanceStatus: m.status,
          currentAction: m.status === 'RUNNING' ? 'NONE' : 'CREATING',
        }));
        const { page, nextPageToken } = paginate(members, c.query, this.pageSize());
        return { managedInstances: page, ...(nextPageToken ? { nextPageToken } : {}) };
      }
      case 'instanceGroupManagers.listErrors': {
        const { page, nextPageToken } = paginate(this.guests.errorsOf(r), c.query, this.pageSize());
        return { items: page, ...(nextPageToken ? { nextPageToken } : {}) };
      }
      default:
        throw new ApiError(400, 'badRequest', `unsupported method ${c.verb} on ${path}`);
    }
  }

  private getHealth(c: CallContext, r: Resource): unknown {
    validateMessage('ResourceGroupReference', c.body);
    const group = canonicalPath(String(c.body.group ?? ''), c.project);
    const backends = ((r.backends as Array<{ group: string }> | undefined) ?? []).map((b) =>
      canonicalPath(b.group, c.project),
    );
    if (!backends.includes(group)) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.group': '${group}'. Instance group is not a backend of backend service ${r.name}.`,
      );
    }
    const mig = this.store.get(group.replace('/instanceGroups/', '/instanceGroupManagers/'));
    const members = mig ? this.guests.members(mig) : [];
    const hasCheck = ((r.healthChecks as string[] | undefined) ?? []).length > 0;
    return {
      kind: 'compute#backendServiceGroupHealth',
      ...(members.length
        ? {
            healthStatus: members.map((m) => ({
              instance: m.selfLink,
              ipAddress: (m.networkInterfaces as Array<{ networkIP: string }>)[0]?.networkIP,
              port: namedPort(mig as Resource),
              healthState: hasCheck && this.guests.serving(pathOf(m)) ? 'HEALTHY' : 'UNHEALTHY',
            })),
          }
        : {}),
    };
  }

  private resize(c: CallContext, r: Resource, path: string): unknown {
    const raw = c.query.get('size');
    const size = Number(raw);
    if (raw === null) throw new ApiError(400, 'required', "Required field 'size' not specified");
    if (!Number.isInteger(size) || size < 0 || size > 1000)
      throw new ApiError(400, 'invalid', `Invalid value for field 'size': '${raw}'. Must be between 0 and 1000.`);
    const existing = this.store.operationForRequest(requestKey(c.project, c.query));
    if (existing) return existing.op;
    if (!c.operationError) {
      r.targetSize = size;
      this.guests.resizeNow(c.scope, r);
    }
    return this.operation(c, 'compute.instanceGroupManagers.resize', path);
  }
}

function namedPort(mig: Resource): number {
  const ports = (mig.namedPorts as Array<{ port: number }> | undefined) ?? [];
  return ports[0]?.port ?? 80;
}
