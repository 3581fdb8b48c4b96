/**
 * The deployer's own records, under its private state dir (0700, files 0600):
 *
 *   revisions/<revision_id>/replicas.json   one ReplicaRecord per replica
 *   revisions/<revision_id>/replica-<n>.log stdout+stderr of replica n
 *   routers/<deployment_id>/router.json     RouterRecord (holds the admin token)
 *   routers/<deployment_id>/config.json     the config the router starts with
 *   routers/<deployment_id>/ready.json      written by the router once it listens
 *   routers/<deployment_id>/router.log
 *
 * Ids are checked against the id pattern before they become path segments.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ID_REGEX } from '../../model/environment.js';
import { ProviderError, StateCorruptError } from '../../model/errors.js';
import type { ProcessIdentity } from './proc.js';

export interface ReplicaRecord extends ProcessIdentity {
  index: number;
  port: number;
  url: string;
  command: string[];
  started_at: string;
}

export interface RouterRecord extends ProcessIdentity {
  deployment_id: string;
  listen: string;
  admin_port: number;
  token: string;
  /** The deployment's metrics_listen the router was started with (null: a free loopback port). */
  metrics_listen_requested?: string | null;
  /** HOST:PORT the metrics listener is bound to; absent for routers started before metrics existed. */
  metrics_listen?: string;
  /** Where operators (and Prometheus) read the router's metrics. */
  metrics_url?: string;
}

function safeId(id: string): string {
  if (!ID_REGEX.test(id)) throw new ProviderError(`"${id}" is not a valid id for a path segment`);
  return id;
}

function readJson<T>(file: string): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ProviderError(`cannot read ${file}: ${(e as Error).message}`, { cause: e, retryable: true });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new StateCorruptError(`${file} is not valid JSON; remove it after stopping what it describes`, { cause: e });
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export class LocalStore {
  constructor(readonly root: string) {}

  private dir(...parts: string[]): string {
    const d = join(this.root, ...parts);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  revisionDir(revisionId: string): string {
    return this.dir('revisions', safeId(revisionId));
  }

  /** Whether any replica of the revision is on record (running or not yet cleaned up). */
  hasReplicas(revisionId: string): boolean {
    return this.readReplicas(revisionId).length > 0;
  }

  replicaLog(revisionId: string, index: number): string {
    return join(this.revisionDir(revisionId), `replica-${index}.log`);
  }

  readReplicas(revisionId: string): ReplicaRecord[] {
    return readJson<ReplicaRecord[]>(join(this.root, 'revisions', safeId(revisionId), 'replicas.json')) ?? [];
  }

  writeReplicas(revisionId: string, records: ReplicaRecord[]): void {
    writeJson(join(this.revisionDir(revisionId), 'replicas.json'), records);
  }

  removeRevision(revisionId: string): void {
    rmSync(join(this.root, 'revisions', safeId(revisionId)), { recursive: true, force: true });
  }

  routerDir(deploymentId: string): string {
    return this.dir('routers', safeId(deploymentId));
  }

  routerFile(deploymentId: string, name: 'router.json' | 'config.json' | 'ready.json' | 'router.log'): string {
    return join(this.routerDir(deploymentId), name);
  }

  readRouter(deploymentId: string): RouterRecord | null {
    return readJson<RouterRecord>(join(this.root, 'routers', safeId(deploymentId), 'router.json'));
  }

  writeRouter(record: RouterRecord): void {
    writeJson(this.routerFile(record.deployment_id, 'router.json'), record);
  }

  writeRouterConfig(deploymentId: string, config: unknown): string {
    const file = this.routerFile(deploymentId, 'config.json');
    writeJson(file, config);
    return file;
  }

  readReady(deploymentId: string): { pid: number; admin_port: number; metrics_listen?: string } | null {
    return readJson(this.routerFile(deploymentId, 'ready.json'));
  }

  removeRouter(deploymentId: string): void {
    rmSync(join(this.root, 'routers', safeId(deploymentId)), { recursive: true, force: true });
  }
}

/** The last lines of a log, for error messages an operator can act on. */
export function logTail(file: string, lines = 10): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    if (!text) return '(log is empty)';
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
