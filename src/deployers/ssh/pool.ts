/**
 * Connections, reused across verbs and bounded to one per host (plus one to the jump host).
 * A dropped connection is replaced on the next call, never mid-call: the verb that saw the
 * drop fails retryably and bp's retry runs it again on a fresh connection.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { importPackage } from '../kit/sdk.js';
import { endpointLabel, localPath, type SshEndpointConfig, type SshHostConfig } from './config.js';
import { type ConnectionSettings, type ConnectTarget, type Ssh2Module, SshConnection } from './connection.js';
import { hostKeyCheck } from './host-keys.js';

/** ssh2 is loaded on first use, so nothing else in bp pays for it. */
export async function loadSsh2(): Promise<Ssh2Module> {
  const mod = await importPackage<Ssh2Module & { default?: Ssh2Module }>('ssh2', {
    deployer: 'ssh',
    what: 'package',
    install: 'npm install ssh2',
  });
  return mod.Client ? mod : (mod.default as Ssh2Module);
}

function targetOf(endpoint: SshEndpointConfig): ConnectTarget {
  const label = endpointLabel(endpoint);
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(localPath(endpoint.private_key_path));
  } catch (e) {
    throw new ProviderError(
      `cannot read the private key ${endpoint.private_key_path} for ${label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let passphrase: string | undefined;
  if (endpoint.passphrase_env) {
    passphrase = process.env[endpoint.passphrase_env];
    if (passphrase === undefined) {
      throw new ProviderError(
        `${endpoint.passphrase_env} (the key passphrase for ${label}) is not set in the environment`,
      );
    }
  }
  return {
    label,
    host: endpoint.host,
    port: endpoint.port ?? 22,
    user: endpoint.user,
    privateKey,
    passphrase,
    checkHostKey: hostKeyCheck(endpoint, label),
  };
}

export class ConnectionPool {
  private readonly open = new Map<string, Promise<SshConnection>>();
  private ssh2: Promise<Ssh2Module> | null = null;

  constructor(
    private readonly jump: SshEndpointConfig | undefined,
    private readonly settings: ConnectionSettings,
    private readonly logger: Logger,
    private readonly load: () => Promise<Ssh2Module> = loadSsh2,
  ) {}

  /** The live connection to `host`, opening (or re-opening) it when needed. */
  async get(host: SshHostConfig): Promise<SshConnection> {
    return this.cached(`host:${endpointLabel(host)}`, host, true);
  }

  private async cached(key: string, endpoint: SshEndpointConfig, viaJump: boolean): Promise<SshConnection> {
    const existing = this.open.get(key);
    if (existing) {
      const conn = await existing.catch(() => null);
      if (conn?.alive) return conn;
      if (this.open.get(key) === existing) this.open.delete(key);
      return this.cached(key, endpoint, viaJump);
    }
    const opening = this.connect(endpoint, viaJump);
    this.open.set(key, opening);
    opening.catch(() => {
      if (this.open.get(key) === opening) this.open.delete(key);
    });
    return opening;
  }

  private async connect(endpoint: SshEndpointConfig, viaJump: boolean): Promise<SshConnection> {
    this.ssh2 ??= this.load();
    const ssh2 = await this.ssh2;
    const target = targetOf(endpoint);
    let sock;
    if (viaJump && this.jump) {
      const jump = await this.cached(`jump:${endpointLabel(this.jump)}`, this.jump, false);
      sock = await jump.forward(target.host, target.port).catch((e: Error) => {
        throw new ProviderError(`jump host ${jump.label} cannot reach ${target.label}: ${e.message}`, {
          cause: e,
          retryable: true,
        });
      });
    }
    const conn = await SshConnection.open(ssh2, target, this.settings, sock);
    this.logger.debug('ssh connected', {
      host: target.label,
      via: viaJump && this.jump ? endpointLabel(this.jump) : null,
    });
    return conn;
  }

  /** Every open connection, for tests that cut them from outside. */
  async connections(): Promise<SshConnection[]> {
    const all = await Promise.all([...this.open.values()].map((p) => p.catch(() => null)));
    return all.filter((c): c is SshConnection => c !== null && c.alive);
  }

  async closeAll(): Promise<void> {
    const all = await this.connections();
    this.open.clear();
    for (const c of all) c.close();
  }
}
