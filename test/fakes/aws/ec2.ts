/**
 * The EC2 half of the fake: instances launched with RunInstances (ClientToken idempotency,
 * tags at launch, vCPU quota), listed by DescribeInstances filters, ended by
 * TerminateInstances. States move with the clock: pending -> running, shutting-down ->
 * terminated. See BEHAVIOUR.md for the API reference behind each rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsFault } from './fault.js';
import { str, strings, trees, type Tree, type XmlValue } from './wire.js';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface FakeInstance {
  id: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  subnetId: string;
  privateIp: string;
  launchedAt: number;
  /** Set when termination was asked for (by bp or by `terminateOutOfBand`). */
  terminatedAt: number | null;
  tags: Record<string, string>;
  userData: string;
  clientToken: string;
  /** `IamInstanceProfile.Name` or `.Arn`: the identity the guest's AWS CLI gets from IMDS. */
  instanceProfile: string | null;
}

export interface Ec2Timing {
  /** pending -> running */
  bootMs: number;
  /** shutting-down -> terminated */
  shutdownMs: number;
}

/** EC2 User Guide, "Instance user data": 16 KB in raw form, before base64 encoding. */
const USER_DATA_MAX_BYTES = 16 * 1024;

/** vCPUs per instance type, for the quota; unknown types count 2. */
const VCPUS: Record<string, number> = {
  't3.nano': 2,
  't3.micro': 2,
  't3.small': 2,
  't3.medium': 2,
  't3.large': 2,
  't3.xlarge': 4,
  'm6i.large': 2,
  'm6i.xlarge': 4,
  'm6i.2xlarge': 8,
  'g5.xlarge': 4,
};

export class Ec2State {
  readonly instances = new Map<string, FakeInstance>();
  private readonly tokens = new Map<string, { fingerprint: string; reservationId: string; ids: string[] }>();
  private ipCounter = 10;
  /** Most instances per DescribeInstances page, whatever MaxResults asks (real pages may be shorter too). */
  pageSize = 5;
  /** Eventual consistency: filtered DescribeInstances does not list an instance for this long after its launch. */
  listLagMs = 0;
  /**
   * Instance types not offered per Availability Zone (as DescribeInstanceTypeOfferings would
   * show): RunInstances of such a type into a subnet of that zone is refused with `Unsupported`.
   */
  readonly notOffered = new Map<string, Set<string>>([['us-east-1b', new Set(['g5.12xlarge', 'g5.2xlarge'])]]);

  constructor(
    private readonly timing: Ec2Timing,
    public vcpuLimit: number,
    private readonly knownImages: Set<string>,
    private readonly knownSubnets: Set<string>,
  ) {}

  /** Availability Zones of the known subnets: us-east-1a, us-east-1b, ... in subnet order. */
  zones(): string[] {
    return [...this.knownSubnets].map((_, i) => `us-east-1${String.fromCharCode(97 + i)}`);
  }

  zoneOf(subnetId: string): string {
    return this.zones()[[...this.knownSubnets].indexOf(subnetId)] ?? 'us-east-1a';
  }

  stateOf(i: FakeInstance, now = Date.now()): InstanceStateName {
    if (i.terminatedAt !== null) return now - i.terminatedAt >= this.timing.shutdownMs ? 'terminated' : 'shutting-down';
    return now - i.launchedAt >= this.timing.bootMs ? 'running' : 'pending';
  }

  get bootMs(): number {
    return this.timing.bootMs;
  }

  /** Terminates an instance as the console or an operator would: bp is not told. */
  terminateOutOfBand(id: string): void {
    const i = this.instances.get(id);
    if (i && i.terminatedAt === null) i.terminatedAt = Date.now();
  }

  handle(action: string, p: Tree): { body: XmlValue; tag: string } {
    switch (action) {
      case 'RunInstances':
        return this.runInstances(p);
      case 'DescribeInstances':
        return this.describeInstances(p);
      case 'TerminateInstances':
        return this.terminateInstances(p);
      default:
        throw new AwsFault(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private runInstances(p: Tree) {
    const imageId = str(p, 'ImageId') ?? '';
    const min = Number(str(p, 'MinCount') ?? '0');
    const max = Number(str(p, 'MaxCount') ?? '0');
    const instanceType = str(p, 'InstanceType') ?? 'm1.small';
    const subnetId = str(p, 'SubnetId') ?? '';
    const token = str(p, 'ClientToken') ?? '';
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw new AwsFault(
        400,
        'InvalidParameterValue',
        'MinCount and MaxCount must be at least 1 and MinCount <= MaxCount',
      );
    }
    if (token.length > 64)
      throw new AwsFault(400, 'InvalidParameterValue', 'ClientToken must be at most 64 ASCII characters');
    const fingerprint = createHash('sha256').update(JSON.stringify(p)).digest('hex');
    if (token) {
      const seen = this.tokens.get(token);
      if (seen) {
        // A token stays bound to its launch after the instances end: EC2 refuses it, it never relaunches.
        const ended = seen.ids.every((id) => this.instances.get(id)?.terminatedAt !== null);
        if (ended) {
          throw new AwsFault(
            400,
            'IdempotentInstanceTerminated',
            'The request to launch an instance with the client token you provided was successful, but the instance was terminated.',
          );
        }
        if (seen.fingerprint !== fingerprint) {
          throw new AwsFault(
            400,
            'IdempotentParameterMismatch',
            'The client token you have provided is associated with a resource that is already deleted or has different parameters.',
          );
        }
        return this.reservationResponse(
          seen.reservationId,
          seen.ids.map((id) => this.instances.get(id)!),
          'RunInstancesResponse',
        );
      }
    }
    const userData = Buffer.from(str(p, 'UserData') ?? '', 'base64');
    if (userData.length > USER_DATA_MAX_BYTES) {
      throw new AwsFault(400, 'InvalidParameterValue', `User data is limited to ${USER_DATA_MAX_BYTES} bytes`);
    }
    if (!this.knownImages.has(imageId))
      throw new AwsFault(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (!this.knownSubnets.has(subnetId))
      throw new AwsFault(400, 'InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    const zone = this.zoneOf(subnetId);
    if (this.notOffered.get(zone)?.has(instanceType)) {
      const offered = this.zones().filter((z) => !this.notOffered.get(z)?.has(instanceType));
      throw new AwsFault(
        400,
        'Unsupported',
        `Your requested instance type (${instanceType}) is not supported in your requested Availability Zone (${zone}). ` +
          `Please retry your request by not specifying an Availability Zone or choosing ${offered.join(', ')}.`,
      );
    }
    const used = [...this.instances.values()]
      .filter((i) => i.terminatedAt === null)
      .reduce((n, i) => n + (VCPUS[i.instanceType] ?? 2), 0);
    const asked = max * (VCPUS[instanceType] ?? 2);
    if (used + asked > this.vcpuLimit) {
      throw new AwsFault(
        400,
        'VcpuLimitExceeded',
        `You have requested more vCPU capacity than your current vCPU limit of ${this.vcpuLimit} allows for the instance bucket that the specified instance type belongs to.`,
      );
    }
    const tags: Record<string, string> = {};
    for (const spec of trees(p, 'TagSpecification')) {
      if (str(spec, 'ResourceType') !== 'instance') continue;
      for (const t of trees(spec, 'Tag')) tags[str(t, 'Key') ?? ''] = str(t, 'Value') ?? '';
    }
    const reservationId = `r-${randomBytes(8).toString('hex').slice(0, 17)}`;
    const launched: FakeInstance[] = [];
    for (let n = 0; n < max; n++) {
      const inst: FakeInstance = {
        id: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
        reservationId,
        imageId,
        instanceType,
        subnetId,
        privateIp: `10.0.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter++ % 250) + 4}`,
        launchedAt: Date.now(),
        terminatedAt: null,
        tags: { ...tags },
        userData: userData.toString('utf8'),
        clientToken: token,
        instanceProfile: profileOf(p),
      };
      this.instances.set(inst.id, inst);
      launched.push(inst);
    }
    if (token) this.tokens.set(token, { fingerprint, reservationId, ids: launched.map((i) => i.id) });
    return this.reservationResponse(reservationId, launched, 'RunInstancesResponse');
  }

  private reservationResponse(reservationId: string, instances: FakeInstance[], tag: string) {
    return {
      tag,
      body: {
        reservationId,
        ownerId: '123456789012',
        groupSet: [],
        instancesSet: instances.map((i) => this.instanceXml(i)),
      },
    };
  }

  private describeInstances(p: Tree) {
    const ids = new Set(strings(p, 'InstanceId'));
    const filters = trees(p, 'Filter').map((f) => ({ name: str(f, 'Name') ?? '', values: strings(f, 'Value') }));
    for (const id of ids) {
      if (!this.instances.has(id))
        throw new AwsFault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    const now = Date.now();
    const all = [...this.instances.values()].filter(
      (i) =>
        (ids.size === 0 || ids.has(i.id)) &&
        filters.every((f) => this.matches(i, f.name, f.values, now)) &&
        (ids.size > 0 || now - i.launchedAt >= this.listLagMs),
    );
    const maxResults = str(p, 'MaxResults');
    if (maxResults !== undefined && ids.size > 0) {
      throw new AwsFault(
        400,
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    if (maxResults !== undefined && (Number(maxResults) < 5 || Number(maxResults) > 1000)) {
      throw new AwsFault(
        400,
        'InvalidParameterValue',
        'Value for parameter maxResults is invalid. Expecting a value between 5 and 1000.',
      );
    }
    const from = pageStart(str(p, 'NextToken'));
    const size = Math.min(this.pageSize, maxResults === undefined ? 1000 : Number(maxResults));
    const matches = all.slice(from, from + size);
    const nextToken = from + size < all.length ? pageToken(from + size) : undefined;
    const byReservation = new Map<string, FakeInstance[]>();
    for (const i of matches) byReservation.set(i.reservationId, [...(byReservation.get(i.reservationId) ?? []), i]);
    return {
      tag: 'DescribeInstancesResponse',
      body: {
        reservationSet: [...byReservation].map(([reservationId, list]) => ({
          reservationId,
          ownerId: '123456789012',
          groupSet: [],
          instancesSet: list.map((i) => this.instanceXml(i, now)),
        })),
        nextToken,
      },
    };
  }

  /** Filter semantics: values of one filter are OR-ed, filters are AND-ed; `tag:K` matches tag K's value. */
  private matches(i: FakeInstance, name: string, values: string[], now: number): boolean {
    if (name === 'instance-state-name') return values.includes(this.stateOf(i, now));
    if (name === 'instance-id') return values.includes(i.id);
    if (name === 'client-token') return values.includes(i.clientToken);
    if (name === 'tag-key') return values.some((v) => v in i.tags);
    if (name.startsWith('tag:')) {
      const v = i.tags[name.slice(4)];
      return v !== undefined && values.includes(v);
    }
    throw new AwsFault(400, 'InvalidParameterValue', `The filter '${name}' is invalid`);
  }

  private terminateInstances(p: Tree) {
    const ids = strings(p, 'InstanceId');
    for (const id of ids) {
      if (!this.instances.has(id))
        throw new AwsFault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    const now = Date.now();
    const changes = ids.map((id) => {
      const i = this.instances.get(id)!;
      const previous = this.stateOf(i, now);
      if (i.terminatedAt === null) i.terminatedAt = now;
      const current = this.stateOf(i, now);
      return {
        instanceId: id,
        currentState: { code: STATE_CODES[current], name: current },
        previousState: { code: STATE_CODES[previous], name: previous },
      };
    });
    return { tag: 'TerminateInstancesResponse', body: { instancesSet: changes } };
  }

  private instanceXml(i: FakeInstance, now = Date.now()): XmlValue {
    const state = this.stateOf(i, now);
    return {
      instanceId: i.id,
      imageId: i.imageId,
      instanceState: { code: STATE_CODES[state], name: state },
      privateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
      instanceType: i.instanceType,
      launchTime: new Date(i.launchedAt).toISOString(),
      placement: { availabilityZone: this.zoneOf(i.subnetId) },
      subnetId: i.subnetId,
      vpcId: 'vpc-0fa4e000000000001',
      privateIpAddress: state === 'terminated' ? undefined : i.privateIp,
      clientToken: i.clientToken || undefined,
      tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
    };
  }
}

/** Opaque page tokens, as EC2's are: an offset the client must hand back unchanged. */
export function pageToken(offset: number): string {
  return Buffer.from(`page:${offset}`).toString('base64');
}

export function pageStart(token: string | undefined): number {
  if (!token) return 0;
  const m = /^page:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!m) throw new AwsFault(400, 'InvalidParameterValue', 'The pagination token is invalid');
  return Number(m[1]);
}

function profileOf(p: Tree): string | null {
  const v = p.IamInstanceProfile;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  return str(v, 'Arn') ?? str(v, 'Name') ?? null;
}
