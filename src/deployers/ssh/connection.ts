/**
 * One SSH connection to one host: exec channels (bounded, with timeouts), one SFTP session,
 * and TCP forwards. A connection that drops makes every call on it fail with a retryable
 * ProviderError; the pool opens a new one for the next call.
 */
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { type BpError, ProviderError } from '../../model/errors.js';
import type { HostKeyCheck } from './host-keys.js';

export type Ssh2Module = { Client: new () => Client };

export interface ConnectTarget {
  label: string;
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  passphrase?: string;
  checkHostKey: HostKeyCheck;
}

export interface ConnectionSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  commandTimeoutMs: number;
  maxChannels: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, then closed (secrets travel here, never in argv). */
  stdin?: string;
  timeoutMs?: number;
}

/** A small counting semaphore: sshd refuses channels beyond MaxSessions. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

function lost(label: string, what: string, cause?: unknown): ProviderError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new ProviderError(`connection to ${label} was lost during ${what}${why}`, { cause, retryable: true });
}

export class SshConnection {
  private closed = false;
  private closeReason: unknown = null;
  private sftpSession: Promise<SFTPWrapper> | null = null;
  private readonly slots: Slots;

  private constructor(
    readonly label: string,
    private readonly client: Client,
    private readonly settings: ConnectionSettings,
    /** Closed with this connection (a jump connection's forward). */
    private readonly onClose: () => void,
  ) {
    this.slots = new Slots(settings.maxChannels);
    client.on('close', () => {
      this.closed = true;
      this.onClose();
    });
    client.on('error', (e) => {
      this.closeReason = e;
    });
  }

  /** The remote user's home directory, learned once after connecting. */
  home = '';

  get alive(): boolean {
    return !this.closed;
  }

  static async open(
    ssh2: Ssh2Module,
    target: ConnectTarget,
    settings: ConnectionSettings,
    sock?: Duplex,
  ): Promise<SshConnection> {
    const client = new ssh2.Client();
    let refusal: string | null = null;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      passphrase: target.passphrase,
      readyTimeout: settings.connectTimeoutMs,
      keepaliveInterval: settings.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        const verdict = target.checkHostKey(key);
        if (!verdict.ok) refusal = verdict.reason ?? `host key of ${target.label} was refused`;
        return verdict.ok;
      },
      ...(sock ? { sock: sock as unknown as ConnectConfig['sock'] } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error & { level?: string; code?: string }) => {
        client.removeListener('ready', onReady);
        client.end();
        reject(connectError(target, e, refusal));
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve();
      };
      client.once('ready', onReady);
      client.once('error', onError);
      try {
        client.connect(config);
      } catch (e) {
        onError(e as Error);
      }
    });
    const conn = new SshConnection(target.label, client, settings, () => sock?.destroy());
    const home = await conn.exec(`printf '%s' "$HOME"`);
    conn.home = home.stdout || '/';
    return conn;
  }

  /** Runs one command; resolves with its exit code and output (a non-zero exit is not an error here). */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.assertOpen('a remote command');
    const release = await this.slots.take();
    try {
      return await this.execOnChannel(command, opts);
    } finally {
      release();
    }
  }

  private execOnChannel(command: string, opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.settings.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream: ClientChannel) => {
        if (err) return reject(this.closed ? lost(this.label, 'a remote command', err) : channelError(this.label, err));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        const timer = setTimeout(() => {
          stream.close();
          reject(
            new ProviderError(`a remote command on ${this.label} did not finish within ${timeoutMs / 1000}s`, {
              retryable: true,
            }),
          );
        }, timeoutMs);
        stream.on('data', (c: Buffer) => out.push(c));
        stream.stderr.on('data', (c: Buffer) => errOut.push(c));
        stream.on('exit', (c: number | null) => {
          code = c ?? 255;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          if (code === null) return reject(lost(this.label, 'a remote command', this.closeReason));
          resolve({
            code,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          });
        });
        stream.end(opts.stdin ?? '');
      });
    });
  }

  /** Runs a command that must succeed; a non-zero exit becomes a ProviderError naming `what`. */
  async run(command: string, what: string, opts: ExecOptions & { retryable?: boolean } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const detail = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-5).join('\n');
      throw new ProviderError(`${what} failed on ${this.label}: ${detail}`, { retryable: opts.retryable ?? true });
    }
    return r.stdout;
  }

  /** The connection's one SFTP session (it counts against MaxSessions like an exec). */
  sftp(): Promise<SFTPWrapper> {
    this.assertOpen('SFTP');
    if (!this.sftpSession) {
      this.sftpSession = new Promise((resolve, reject) => {
        this.client.sftp((err, sftp) => (err ? reject(channelError(this.label, err)) : resolve(sftp)));
      });
      this.sftpSession.catch(() => (this.sftpSession = null));
    }
    return this.sftpSession;
  }

  /** A TCP stream to `host:port` as seen from the remote host (direct-tcpip). */
  forward(host: string, port: number): Promise<ClientChannel> {
    this.assertOpen('a port forward');
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) return reject(this.closed ? lost(this.label, 'a port forward', err) : err);
        resolve(stream);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  /** For tests that simulate a dropped link: tear the transport down without a goodbye. */
  destroy(): void {
    this.client.destroy();
  }

  private assertOpen(what: string): void {
    if (this.closed) throw lost(this.label, what, this.closeReason);
  }
}

function channelError(label: string, err: Error): ProviderError {
  return new ProviderError(`cannot open an SSH channel to ${label}: ${err.message}`, { cause: err, retryable: true });
}

function connectError(
  target: ConnectTarget,
  e: Error & { level?: string; code?: string },
  refusal: string | null,
): BpError {
  if (refusal) {
    return new ProviderError(
      `refusing to connect: ${refusal}; if the host was re-keyed on purpose, update its host_key or known_hosts`,
      {
        retryable: false,
      },
    );
  }
  if (e.level === 'client-authentication') {
    return new ProviderError(
      `authentication to ${target.label} failed with its private key (check user and authorized_keys)`,
      {
        retryable: false,
      },
    );
  }
  if (/privateKey|passphrase|Encrypted private/i.test(e.message) && !e.code) {
    return new ProviderError(`the private key for ${target.label} cannot be used: ${e.message}`, { retryable: false });
  }
  return new ProviderError(`cannot connect to ${target.label}: ${e.code ?? e.message}`, { cause: e, retryable: true });
}
