/**
 * One HTTP server faking three secret stores at the wire level, for the real clients bp uses:
 * AWS Secrets Manager and SSM Parameter Store (AWS JSON 1.1 protocol: POST /, X-Amz-Target,
 * SigV4-signed) and HashiCorp Vault KV version 2 (GET /v1/MOUNT/data/PATH, X-Vault-Token).
 * Stateful (versions, stages), strict (unsigned or unauthenticated requests are refused), with
 * a request journal tests search for leaked values. Behaviour and references: BEHAVIOUR.md.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface SmVersion {
  id: string;
  value: string;
  stages: Set<string>;
}
interface Journal {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class FakeSecretStores {
  readonly journal: Journal[] = [];
  readonly vaultToken = 'fake-vault-token-' + randomUUID();
  private readonly sm = new Map<string, SmVersion[]>();
  private readonly ssm = new Map<string, string[]>();
  private readonly kv = new Map<string, Array<Record<string, unknown> | null>>();
  private server: http.Server | null = null;
  url = '';

  /** Secrets Manager PutSecretValue: a new version becomes AWSCURRENT, the old one AWSPREVIOUS. */
  putSecret(name: string, value: string): string {
    const list = this.sm.get(name) ?? [];
    for (const v of list) {
      v.stages.delete('AWSPREVIOUS');
      if (v.stages.delete('AWSCURRENT')) v.stages.add('AWSPREVIOUS');
    }
    const id = randomUUID();
    list.push({ id, value, stages: new Set(['AWSCURRENT']) });
    this.sm.set(name, list);
    return id;
  }

  /** SSM PutParameter (Overwrite): versions count from 1. */
  putParameter(name: string, value: string): number {
    const list = this.ssm.get(name) ?? [];
    list.push(value);
    this.ssm.set(name, list);
    return list.length;
  }

  /** Vault KV v2 write at MOUNT/PATH: versions count from 1. */
  putKv(mountPath: string, data: Record<string, unknown>): number {
    const list = this.kv.get(mountPath) ?? [];
    list.push(data);
    this.kv.set(mountPath, list);
    return list.length;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        this.journal.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        try {
          if (req.url?.startsWith('/v1/')) this.vault(req, res);
          else this.aws(req, body, res);
        } catch (e) {
          res.writeHead(500).end(String(e));
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private awsError(res: http.ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': type,
      'x-amzn-requestid': randomUUID(),
    });
    res.end(JSON.stringify({ __type: type, message }));
  }

  private aws(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    if (req.method !== 'POST') return this.awsError(res, 404, 'UnknownOperationException', 'only POST /');
    if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) {
      return this.awsError(res, 400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse(body || '{}') as Record<string, string>;
    const ok = (out: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(out));
    };
    if (target === 'secretsmanager.GetSecretValue') {
      if (input.VersionId && input.VersionStage) {
        return this.awsError(
          res,
          400,
          'InvalidParameterException',
          'You can specify either VersionId or VersionStage, not both',
        );
      }
      const list = this.sm.get(input.SecretId);
      if (!list)
        return this.awsError(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
      const v = list.find((x) => (stage ? x.stages.has(stage) : x.id === input.VersionId));
      if (!v)
        return this.awsError(
          res,
          400,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for VersionId or VersionStage",
        );
      return ok({
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`,
        Name: input.SecretId,
        VersionId: v.id,
        SecretString: v.value,
        VersionStages: [...v.stages],
        CreatedDate: 1.7e9,
      });
    }
    if (target === 'AmazonSSM.GetParameter') {
      const m = /^(.*?)(?::([0-9]+))?$/.exec(input.Name)!;
      const list = this.ssm.get(m[1]);
      const version = m[2] ? Number(m[2]) : list?.length;
      if (!list || !version || version > list.length)
        return this.awsError(res, 400, m[2] && list ? 'ParameterVersionNotFound' : 'ParameterNotFound', '');
      return ok({
        Parameter: {
          Name: m[1],
          Type: 'SecureString',
          Value: list[version - 1],
          Version: version,
          Selector: m[2] ? `:${m[2]}` : undefined,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter/${m[1].replace(/^\//, '')}`,
          LastModifiedDate: 1.7e9,
          DataType: 'text',
        },
      });
    }
    return this.awsError(res, 400, 'UnknownOperationException', `unknown operation ${target}`);
  }

  private vault(req: http.IncomingMessage, res: http.ServerResponse): void {
    const json = (status: number, out: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    };
    if (req.headers['x-vault-token'] !== this.vaultToken) return json(403, { errors: ['permission denied'] });
    const url = new URL(req.url!, 'http://x');
    const m = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return json(404, { errors: [] });
    const list = this.kv.get(`${m[1]}/${m[2]}`);
    const asked = url.searchParams.get('version');
    const version = asked && asked !== '0' ? Number(asked) : (list?.length ?? 0);
    if (!list || !Number.isInteger(version) || version < 1 || version > list.length) return json(404, { errors: [] });
    json(200, {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: {
        data: list[version - 1],
        metadata: {
          created_time: '2026-01-01T00:00:00Z',
          custom_metadata: null,
          deletion_time: '',
          destroyed: false,
          version,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  }
}
