/** Builders for ssh deployer tests: two "hosts" (two private sshds), configs, an app dir. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../../../src/deployers/ssh.js';
import type { SshConfig, SshHostConfig } from '../../../src/deployers/ssh/config.js';
import type { SshDeployer } from '../../../src/deployers/ssh/deployer.js';
import type { Logger } from '../../../src/model/deployer.js';
import { EXAMPLES_DIR } from '../local-process-fixtures.js';
import { type ClientKey, killRecorded, newClientKey, type Sshd, startSshd } from './sshd.js';

export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Lab {
  client: ClientKey;
  sshds: Sshd[];
  remoteDirs: string[];
  scratch: string;
  hostConfig(i: number, over?: Partial<SshHostConfig>): SshHostConfig;
  config(over?: Partial<SshConfig>): SshConfig;
  deployer(config?: SshConfig, logger?: Logger): Promise<SshDeployer>;
  /** A directory holding the example app (app/server.mjs), to use as base_dir. */
  appDir(): string;
  stop(): Promise<void>;
}

/**
 * A lab of `n` hosts for the whole test file: started before its tests, stopped after them.
 * Returns the lab (call it inside a test or hook, once started).
 */
export function useLab(n: number): () => Lab {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab(n);
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (!lab) throw new Error('the ssh lab is not started: call its getter inside a test or hook');
    return lab;
  };
}

/** `n` sshds on loopback, each a "host" with its own remote dir and router address 127.0.0.(2+i). */
export async function startLab(n: number): Promise<Lab> {
  const scratch = mkdtempSync(join(tmpdir(), 'bp-ssh-lab-'));
  const client = newClientKey(mkdtempSync(join(scratch, 'client-')));
  const sshds: Sshd[] = [];
  for (let i = 0; i < n; i++) sshds.push(await startSshd(client));
  const remoteDirs = sshds.map((_, i) => join(scratch, `host${i}`));
  const deployers: SshDeployer[] = [];
  const lab: Lab = {
    client,
    sshds,
    remoteDirs,
    scratch,
    hostConfig: (i, over = {}) => ({
      host: '127.0.0.1',
      port: sshds[i].port,
      user: 'root',
      private_key_path: client.path,
      host_key: sshds[i].hostFingerprint,
      remote_dir: remoteDirs[i],
      listen_host: `127.0.0.${2 + i}`,
      ...over,
    }),
    config: (over = {}) => ({
      hosts: sshds.map((_, i) => lab.hostConfig(i)),
      kill_grace_seconds: 2,
      health_check_interval_ms: 200,
      ...over,
    }),
    async deployer(config = lab.config(), logger = quietLogger) {
      const d = (await plugin.create(config, {
        logger,
        stateDir: mkdtempSync(join(scratch, 'state-')),
      })) as SshDeployer;
      deployers.push(d);
      return d;
    },
    appDir() {
      const dir = mkdtempSync(join(scratch, 'app-'));
      mkdirSync(join(dir, 'app'));
      copyFileSync(join(EXAMPLES_DIR, 'app/server.mjs'), join(dir, 'app/server.mjs'));
      return dir;
    },
    async stop() {
      for (const d of deployers) await d.close().catch(() => undefined);
      killRecorded(scratch);
      for (const s of sshds) await s.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Writes a file into a dir and returns the dir. */
export function withFile(dir: string, name: string, content: string): string {
  writeFileSync(join(dir, name), content);
  return dir;
}
