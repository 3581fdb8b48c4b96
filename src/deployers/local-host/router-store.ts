/**
 * Router records on this machine, under the deployer's private state dir:
 *
 *   routers/<deployment_id>/router.json     RouterRecord (holds the admin token)
 *   routers/<deployment_id>/config.json     the config the router starts with
 *   routers/<deployment_id>/ready.json      written by the router once it listens
 *   routers/<deployment_id>/router.log
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir, readJson, safeId, writeJson } from './files.js';
import type { ProcessIdentity } from './proc.js';

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

export class RouterStore {
  constructor(readonly root: string) {}

  routerDir(deploymentId: string): string {
    return privateDir(this.root, 'routers', safeId(deploymentId));
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
