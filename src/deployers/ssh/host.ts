/**
 * One configured host as the deployer sees it: its connection, its directories, and the
 * handful of remote operations every verb is built from. Layout under the host's remote_dir:
 *
 *   _bp/router-<digest>/            the router's JS files, shipped by bp (one dir per version)
 *   <env>/<revision>/               the revision's uploaded artifact (the replicas' cwd)
 *   <env>/_staged/<revision>        digest of the verified upload: a later stage is a no-op
 *   <env>/_run/<revision>/replica-N.rec   "PID STARTTIME PORT ARGV_DIGEST"   (+ replica-N.log)
 *   <env>/_routers/<deployment>/    router.rec, config.json, ready.json, router.log
 *
 * Ids match [A-Za-z0-9][A-Za-z0-9._-]*, so they never collide with the `_` names.
 */
import { ID_REGEX } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import { endpointLabel, remotePath, type SshHostConfig, type SshSettings } from './config.js';
import type { ExecOptions, SshConnection } from './connection.js';
import type { ConnectionPool } from './pool.js';
import { FREE_PORTS_JS, READ_FILE, READ_REPLICAS, REMOVE, STOP_PROCESSES, TAIL, WRITE_FILE } from './scripts.js';
import { scriptCommand, shellCommand } from './shell.js';

export interface ProcessIdentity {
  pid: number;
  start_time: string;
}

export interface ReplicaRecord extends ProcessIdentity {
  revision_id: string;
  index: number;
  port: number;
  digest: string;
  alive: boolean;
}

function safeId(id: string): string {
  if (!ID_REGEX.test(id)) throw new ProviderError(`"${id}" is not a valid id for a remote path segment`);
  return id;
}

const DIGITS = /^[0-9]+$/;

/** `<root>/<env>/<revision>`: the revision's uploaded artifact, the replicas' cwd. */
export function artifactDirIn(root: string, envId: string, revisionId: string): string {
  return `${root}/${safeId(envId)}/${safeId(revisionId)}`;
}

/** `<root>/<env>/_run[/<revision>]`: the replicas' records and logs. */
export function runDirIn(root: string, envId: string, revisionId?: string): string {
  const dir = `${root}/${safeId(envId)}/_run`;
  return revisionId === undefined ? dir : `${dir}/${safeId(revisionId)}`;
}

export class Host {
  readonly label: string;

  constructor(
    readonly config: SshHostConfig,
    readonly index: number,
    private readonly pool: ConnectionPool,
    readonly settings: SshSettings,
  ) {
    this.label = endpointLabel(config);
  }

  connection(): Promise<SshConnection> {
    return this.pool.get(this.config);
  }

  /** Absolute remote_dir on this host (`~` is the remote user's home). */
  async root(): Promise<string> {
    const conn = await this.connection();
    return remotePath(conn.home, this.config.remote_dir ?? this.settings.remoteDir);
  }

  async envDir(envId: string): Promise<string> {
    return `${await this.root()}/${safeId(envId)}`;
  }

  async artifactDir(envId: string, revisionId: string): Promise<string> {
    return artifactDirIn(await this.root(), envId, revisionId);
  }

  async stagedMarker(envId: string, revisionId: string): Promise<string> {
    return `${await this.envDir(envId)}/_staged/${safeId(revisionId)}`;
  }

  async runDir(envId: string, revisionId?: string): Promise<string> {
    return runDirIn(await this.root(), envId, revisionId);
  }

  async routerDir(envId: string, deploymentId?: string): Promise<string> {
    const dir = `${await this.envDir(envId)}/_routers`;
    return deploymentId === undefined ? dir : `${dir}/${safeId(deploymentId)}`;
  }

  /** Runs a constant script with quoted arguments; a non-zero exit is a ProviderError. */
  async script(
    script: string,
    args: string[],
    what: string,
    opts: ExecOptions & { retryable?: boolean } = {},
  ): Promise<string> {
    const command = scriptCommand(script, args, what);
    const conn = await this.connection();
    return conn.run(command, what, opts);
  }

  async exec(script: string, args: string[], opts: ExecOptions = {}) {
    const command = scriptCommand(script, args);
    const conn = await this.connection();
    return conn.exec(command, opts);
  }

  async readFile(path: string): Promise<string | null> {
    const r = await this.exec(READ_FILE, [path]);
    if (r.code === 3) return null;
    if (r.code !== 0)
      throw new ProviderError(`cannot read ${path} on ${this.label}: ${r.stderr.trim()}`, { retryable: true });
    return r.stdout;
  }

  async writeFile(path: string, content: string): Promise<void> {
    await this.script(WRITE_FILE, [path], `writing ${path}`, { stdin: content });
  }

  async remove(...paths: string[]): Promise<void> {
    if (paths.length > 0) await this.script(REMOVE, paths, 'removing files');
  }

  async tail(path: string, lines = 10): Promise<string> {
    try {
      return (await this.script(TAIL, [path, String(lines)], 'reading a log')).trimEnd() || '(log is empty)';
    } catch {
      return '(log unavailable)';
    }
  }

  /** Replica records on this host: of one revision, or of every revision of the environment. */
  async readReplicas(envId: string, revisionId?: string): Promise<ReplicaRecord[]> {
    const out = await this.script(
      READ_REPLICAS,
      [await this.runDir(envId), revisionId ?? ''],
      'reading replica records',
    );
    const records: ReplicaRecord[] = [];
    for (const line of out.split('\n')) {
      const [rev, n, pid, st, port, digest, state, current] = line.split(' ');
      if (!rev || !DIGITS.test(n ?? '') || !DIGITS.test(pid ?? '') || !DIGITS.test(st ?? '')) continue;
      records.push({
        revision_id: rev,
        index: Number(n),
        pid: Number(pid),
        start_time: st,
        port: Number(port),
        digest: digest ?? '',
        alive: current === st && state !== 'Z' && state !== 'X' && state !== '-',
      });
    }
    return records.sort((a, b) => a.index - b.index);
  }

  /** SIGTERM each process group that is still ours, SIGKILL after the grace. */
  async stopProcesses(ids: ProcessIdentity[], graceMs = this.settings.killGraceMs): Promise<void> {
    const pairs = ids.flatMap((id) => [String(id.pid), id.start_time]);
    if (pairs.length === 0) return;
    if (!pairs.every((p) => DIGITS.test(p))) throw new ProviderError(`a process record on ${this.label} is corrupt`);
    await this.script(STOP_PROCESSES, [String(Math.round(graceMs)), ...pairs], 'stopping processes', {
      timeoutMs: graceMs + this.settings.commandTimeoutMs,
    });
  }

  /** `n` TCP ports free on this host right now. */
  async freePorts(n: number, bindHost: string): Promise<number[]> {
    const conn = await this.connection();
    const out = await conn.run(
      shellCommand([this.settings.nodePath, '-e', FREE_PORTS_JS, String(n), bindHost]),
      `finding free ports with ${this.settings.nodePath} (hosts need Node.js; set node_path)`,
    );
    const ports = out
      .split('\n')
      .filter((l) => DIGITS.test(l.trim()))
      .map(Number);
    if (ports.length !== n)
      throw new ProviderError(`could not find ${n} free ports on ${this.label}`, { retryable: true });
    return ports;
  }
}
