/**
 * The deployer's replica records, under its private state dir (0700, files 0600):
 *
 *   revisions/<revision_id>/replicas.json   one ReplicaRecord per replica
 *   revisions/<revision_id>/replica-<n>.log stdout+stderr of replica n
 *
 * Router records live beside them (routers/, see ../local-host/router-store.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir, readJson, safeId, writeJson } from '../local-host/files.js';
import type { ProcessIdentity } from '../local-host/proc.js';

export { logTail } from '../local-host/files.js';

export interface ReplicaRecord extends ProcessIdentity {
  index: number;
  port: number;
  url: string;
  command: string[];
  started_at: string;
}

export class LocalStore {
  constructor(readonly root: string) {}

  revisionDir(revisionId: string): string {
    return privateDir(this.root, 'revisions', safeId(revisionId));
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
}
