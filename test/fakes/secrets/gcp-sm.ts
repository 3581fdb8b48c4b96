/**
 * A stateful fake of GCP Secret Manager's REST API (v1, `versions:access`) and the Security
 * Token Service exchange, on a loopback HTTP port: the real `@google-cloud/secret-manager`
 * client runs unchanged in its REST mode (`fallback: true`), pointed here by
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER, authenticated by an `external_account`
 * credentials file (GOOGLE_APPLICATION_CREDENTIALS). Behaviour: BEHAVIOUR.md beside this file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Version {
  value: string;
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED';
}

export interface GcpJournalEntry {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
  response: string;
}

export class FakeGcpSecretManager {
  readonly journal: GcpJournalEntry[] = [];
  private readonly secrets = new Map<string, Version[]>();
  private readonly tokens = new Set<string>();
  private server: http.Server | null = null;
  private credsDir: string | null = null;
  url = '';

  /** AddSecretVersion: versions count from 1 per secret; returns the new version's number. */
  addVersion(project: string, secret: string, value: string): number {
    const key = `projects/${project}/secrets/${secret}`;
    const list = this.secrets.get(key) ?? [];
    list.push({ value, state: 'ENABLED' });
    this.secrets.set(key, list);
    return list.length;
  }

  /** DisableSecretVersion. */
  disableVersion(project: string, secret: string, version: number): void {
    this.secrets.get(`projects/${project}/secrets/${secret}`)![version - 1].state = 'DISABLED';
  }

  /** A Workload Identity Federation credentials file whose token exchange comes here. */
  writeCredentials(): string {
    this.credsDir ??= mkdtempSync(join(tmpdir(), 'bp-fake-gsm-creds-'));
    const subject = join(this.credsDir, 'subject-token');
    writeFileSync(subject, `fake-oidc-${randomBytes(8).toString('hex')}`);
    const file = join(this.credsDir, 'credentials.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'external_account',
        audience: '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/bp/providers/fake',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${this.url}/v1/token`,
        credential_source: { file: subject },
      }),
    );
    return file;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const { status, out } = this.serve(req, body);
        const response = JSON.stringify(out);
        this.journal.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          status,
          response,
        });
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(response);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.credsDir) rmSync(this.credsDir, { recursive: true, force: true });
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private serve(req: http.IncomingMessage, body: string): { status: number; out: unknown } {
    const url = new URL(req.url ?? '/', 'http://fake');
    const error = (code: number, status: string, message: string) => ({
      status: code,
      out: { error: { code, message, status } },
    });
    if (url.pathname === '/v1/token' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !form.get('subject_token'))
        return { status: 400, out: { error: 'invalid_request', error_description: 'Invalid token exchange request' } };
      const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
      this.tokens.add(token);
      return {
        status: 200,
        out: {
          access_token: token,
          issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          token_type: 'Bearer',
          expires_in: 3600,
        },
      };
    }
    if (!this.tokens.has(String(req.headers.authorization ?? '').replace(/^Bearer /, '')))
      return error(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    const m = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return error(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found.`);
    const [, secret, asked] = m;
    const list = this.secrets.get(secret);
    if (!list) return error(404, 'NOT_FOUND', `Secret [${secret}] not found or has no versions.`);
    let n: number;
    if (asked === 'latest') {
      n = list.findLastIndex((v) => v.state === 'ENABLED') + 1;
      if (n === 0) return error(400, 'FAILED_PRECONDITION', `Secret [${secret}] has no enabled versions.`);
    } else if (/^[1-9][0-9]*$/.test(asked)) n = Number(asked);
    else return error(400, 'INVALID_ARGUMENT', `Invalid resource field value in the request: version "${asked}".`);
    const v = list[n - 1];
    if (!v) return error(404, 'NOT_FOUND', `Secret Version [${secret}/versions/${asked}] not found.`);
    if (v.state !== 'ENABLED')
      return error(400, 'FAILED_PRECONDITION', `Secret Version [${secret}/versions/${n}] is in ${v.state} state.`);
    return {
      status: 200,
      out: { name: `${secret}/versions/${n}`, payload: { data: Buffer.from(v.value, 'utf8').toString('base64') } },
    };
  }
}
