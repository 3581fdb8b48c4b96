/**
 * A stateful fake of the EC2 and ELBv2 Query APIs on one loopback HTTP port, so the real
 * AWS SDK v3 clients run unchanged with only `endpoint` and credentials set. Requests are
 * told apart by their `Version` parameter (EC2 2016-11-15, ELBv2 2015-12-01), as both
 * services share action names such as DescribeTags. Adds fault rules (throttling, 5xx,
 * quota, latency) and a request journal for tests. See BEHAVIOUR.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Ec2State, type Ec2Timing } from './ec2.js';
import { Elbv2State, type ElbTiming } from './elbv2.js';
import { AwsFault } from './fault.js';
import { toXml, unflatten, type XmlValue } from './wire.js';

export const FAKE_ACCESS_KEY_ID = 'AKIAFAKEBP0000000001';
export const FAKE_SECRET_ACCESS_KEY = 'fake-secret-for-tests-only';
export const FAKE_AMI = 'ami-0bpfake00000000001';
export const FAKE_SUBNETS = ['subnet-0bpfake0000000001', 'subnet-0bpfake0000000002'];
export const FAKE_VPC = 'vpc-0fa4e000000000001';

const EC2_VERSION = '2016-11-15';
const ELB_VERSION = '2015-12-01';

export type Service = 'ec2' | 'elbv2';

/** Makes matching requests fail (or slow down) before the fake handles them. */
export interface FaultRule {
  service?: Service;
  /** Action name, or a pattern over it. */
  action?: string | RegExp;
  /** Error to answer with; without one the rule only adds latency. */
  error?: { status: number; code: string; message?: string };
  latencyMs?: number;
  /** How many matching requests it applies to (default: all). */
  times?: number;
  /** Handle the request, then answer with `error` anyway: a response lost on the way back. */
  afterHandling?: boolean;
  /** Runs just before a matching request is handled: another client acting in between (e.g. deleting a rule). */
  before?: () => void;
}

export interface JournalEntry {
  at: number;
  service: Service;
  action: string;
  params: Record<string, string>;
  status: number;
  code?: string;
}

export interface FakeAwsOptions extends Partial<Ec2Timing>, Partial<ElbTiming> {
  vcpuLimit?: number;
  ruleLimit?: number;
  /** Items per page of every list call (default 5, so that every list is paginated in tests). */
  pageSize?: number;
}

export class FakeAws {
  readonly ec2: Ec2State;
  readonly elbv2: Elbv2State;
  readonly journal: JournalEntry[] = [];
  private readonly faults: Array<FaultRule & { used: number }> = [];
  private server: Server | null = null;
  endpoint = '';
  /** Requests being served now, and the most ever served at once (how concurrent bp's calls are). */
  inFlight = 0;
  maxInFlight = 0;

  constructor(opts: FakeAwsOptions = {}) {
    this.ec2 = new Ec2State(
      { bootMs: opts.bootMs ?? 150, shutdownMs: opts.shutdownMs ?? 150 },
      opts.vcpuLimit ?? 1000,
      new Set([FAKE_AMI]),
      new Set(FAKE_SUBNETS),
    );
    this.elbv2 = new Elbv2State(
      this.ec2,
      {
        healthyAfterMs: opts.healthyAfterMs ?? 300,
        registrationLagMs: opts.registrationLagMs ?? 100,
      },
      opts.ruleLimit ?? 100,
    );
    this.ec2.pageSize = this.elbv2.pageSize = opts.pageSize ?? 5;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ ...rule, used: 0 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Actions of one service in the order they arrived (for asserting what bp called). */
  actions(service?: Service): string[] {
    return this.journal.filter((j) => !service || j.service === service).map((j) => j.action);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const action = form.get('Action') ?? '';
    const service: Service = form.get('Version') === ELB_VERSION ? 'elbv2' : 'ec2';
    const entry: JournalEntry = { at: Date.now(), service, action, params: Object.fromEntries(form), status: 200 };
    this.journal.push(entry);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    res.once('finish', () => this.inFlight--);
    try {
      if (req.method !== 'POST') throw new AwsFault(400, 'InvalidAction', 'Query requests must be POSTed');
      // Signatures are not verified, but a request must be signed with the fake's key id.
      if (!(req.headers.authorization ?? '').includes(`Credential=${FAKE_ACCESS_KEY_ID}/`)) {
        throw service === 'ec2'
          ? new AwsFault(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials')
          : new AwsFault(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      }
      if (service === 'ec2' && form.get('Version') !== EC2_VERSION)
        throw new AwsFault(400, 'InvalidAction', 'Unknown API version');
      const lost = await this.applyFaults(service, action);
      const params = unflatten(form);
      const { tag, body } = service === 'ec2' ? this.ec2.handle(action, params) : this.elbv2.handle(action, params);
      if (lost) throw lost;
      this.reply(res, 200, service === 'ec2' ? this.ec2Body(tag, body) : this.elbBody(tag, body));
    } catch (e) {
      const fault =
        e instanceof AwsFault ? e : new AwsFault(500, 'InternalError', e instanceof Error ? e.message : String(e));
      entry.status = fault.status;
      entry.code = fault.code;
      this.reply(res, fault.status, service === 'ec2' ? this.ec2Error(fault) : this.elbError(fault));
    }
  }

  /** Throws the first matching fault; returns one to throw after handling, if any. */
  private async applyFaults(service: Service, action: string): Promise<AwsFault | null> {
    let lost: AwsFault | null = null;
    for (const f of this.faults) {
      if (f.service && f.service !== service) continue;
      if (f.action !== undefined && !(typeof f.action === 'string' ? f.action === action : f.action.test(action)))
        continue;
      if (f.times !== undefined && f.used >= f.times) continue;
      f.used++;
      f.before?.();
      if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
      if (!f.error) continue;
      const fault = new AwsFault(f.error.status, f.error.code, f.error.message ?? `injected ${f.error.code}`);
      if (!f.afterHandling) throw fault;
      lost ??= fault;
    }
    return lost;
  }

  private reply(res: ServerResponse, status: number, xml: string): void {
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': randomUUID() });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  }

  private ec2Body(tag: string, body: XmlValue): string {
    const inner = Object.entries(body as Record<string, XmlValue>)
      .map(([k, v]) => toXml(k, v, 'item'))
      .join('');
    return `<${tag} xmlns="http://ec2.amazonaws.com/doc/${EC2_VERSION}/"><requestId>${randomUUID()}</requestId>${inner}</${tag}>`;
  }

  private elbBody(tag: string, body: XmlValue): string {
    const inner = Object.entries(body as Record<string, XmlValue>)
      .map(([k, v]) => toXml(k, v, 'member'))
      .join('');
    return (
      `<${tag} xmlns="http://elasticloadbalancing.amazonaws.com/doc/${ELB_VERSION}/">${inner}` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${tag}>`
    );
  }

  private ec2Error(f: AwsFault): string {
    return (
      `<Response><Errors><Error>${toXml('Code', f.code, 'item')}${toXml('Message', f.message, 'item')}</Error></Errors>` +
      `<RequestID>${randomUUID()}</RequestID></Response>`
    );
  }

  private elbError(f: AwsFault): string {
    const type = f.status >= 500 ? 'Receiver' : 'Sender';
    return (
      `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/${ELB_VERSION}/"><Error><Type>${type}</Type>` +
      `${toXml('Code', f.code, 'member')}${toXml('Message', f.message, 'member')}</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
    );
  }
}
