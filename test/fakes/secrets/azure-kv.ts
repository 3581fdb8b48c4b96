/**
 * A stateful fake of Azure Key Vault's secrets data plane (Get Secret) and the Microsoft Entra
 * client-credentials grant, over HTTPS with a throwaway certificate (test/fakes/azure/cert.ts):
 * the real `@azure/keyvault-secrets` SecretClient with `@azure/identity`'s
 * ClientSecretCredential runs unchanged, including Key Vault's bearer challenge (the first
 * request goes out without a token and learns the authority and resource from the 401).
 * Behaviour: BEHAVIOUR.md beside this file.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeThrowawayCert, type ThrowawayCert } from '../azure/cert.js';

export const KV_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const KV_CLIENT = { clientId: '0b3c5c4e-0000-4000-8000-00000000b0b0', clientSecret: 'fake-kv-client-secret' };
const RESOURCE = 'https://vault.azure.net';

interface Version {
  id: string;
  value: string;
  created: number;
}

export interface KvJournalEntry {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
  status: number;
  response: string;
}

export class FakeKeyVault {
  readonly journal: KvJournalEntry[] = [];
  readonly cert: ThrowawayCert = makeThrowawayCert();
  private readonly secrets = new Map<string, Version[]>();
  private readonly tokens = new Set<string>();
  private server: https.Server | null = null;
  url = '';

  /** Set Secret: a new version (32 hex digits) becomes the current one; returns its id. */
  setSecret(name: string, value: string): string {
    const list = this.secrets.get(name) ?? [];
    const id = randomBytes(16).toString('hex');
    list.push({ id, value, created: Math.floor(Date.now() / 1000) });
    this.secrets.set(name, list);
    return id;
  }

  async start(): Promise<void> {
    this.server = https.createServer({ cert: this.cert.cert, key: this.cert.key }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const r = this.serve(req, body);
        const response = JSON.stringify(r.out);
        this.journal.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          status: r.status,
          response,
        });
        res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers }).end(response);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.cert.remove();
  }

  private serve(
    req: IncomingMessage,
    body: string,
  ): { status: number; out: unknown; headers?: Record<string, string> } {
    const url = new URL(req.url ?? '/', this.url);
    const entra = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    if (entra) return this.entra(entra[1], entra[2], req.method ?? 'GET', body);
    const kvError = (status: number, code: string, message: string, headers?: Record<string, string>) => ({
      status,
      out: { error: { code, message } },
      headers,
    });
    if (!url.searchParams.get('api-version'))
      return kvError(400, 'BadParameter', 'The request URI contains an invalid or missing api-version.');
    const auth = String(req.headers.authorization ?? '');
    if (!this.tokens.has(auth.replace(/^Bearer /, ''))) {
      return kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
        'www-authenticate': `Bearer authorization="${this.url}/${KV_TENANT}", resource="${RESOURCE}"`,
      });
    }
    const m = /^\/secrets\/([0-9a-zA-Z-]{1,127})(?:\/([0-9a-f]{32})?)?$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return kvError(404, 'NotFound', `no route ${req.method} ${url.pathname}`);
    const [, name, version] = m;
    const list = this.secrets.get(name) ?? [];
    const v = version ? list.find((x) => x.id === version) : list.at(-1);
    if (!v)
      return kvError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    return {
      status: 200,
      out: {
        value: v.value,
        id: `${this.url}/secrets/${name}/${v.id}`,
        attributes: { enabled: true, created: v.created, updated: v.created, recoveryLevel: 'Recoverable+Purgeable' },
        tags: {},
      },
    };
  }

  /** Microsoft Entra ID v2.0: OpenID metadata and the client-credentials grant for the vault resource. */
  private entra(tenant: string, what: string, method: string, body: string): { status: number; out: unknown } {
    const authority = `${this.url}/${tenant}`;
    if (what.startsWith('v2.0'))
      return {
        status: 200,
        out: {
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
          jwks_uri: `${authority}/discovery/v2.0/keys`,
          issuer: `${authority}/v2.0`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        },
      };
    const form = new URLSearchParams(body);
    if (
      method !== 'POST' ||
      tenant !== KV_TENANT ||
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_id') !== KV_CLIENT.clientId ||
      form.get('client_secret') !== KV_CLIENT.clientSecret
    )
      return {
        status: 401,
        out: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
      };
    if (form.get('scope') !== `${RESOURCE}/.default`)
      return {
        status: 400,
        out: {
          error: 'invalid_scope',
          error_description: `AADSTS70011: The provided value for scope ${form.get('scope')} is not valid.`,
        },
      };
    const token = `eyJ0eXAiOiJKV1QifQ.kv-${randomBytes(16).toString('hex')}.sig`;
    this.tokens.add(token);
    return { status: 200, out: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  }
}
