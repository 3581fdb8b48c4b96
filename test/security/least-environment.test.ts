/**
 * Least environment: replicas and routers started by the local-process and ssh deployers
 * see PATH, HOME, PORT and what their own revision declares; nothing of bp's environment
 * (PG*, AWS_*, a webhook secret), no other revision's values, nothing secret on a command
 * line; the router's admin token is in neither its environment nor its argv.
 * Read from /proc/PID/environ and /proc/PID/cmdline of the real processes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import {
  deployment,
  environment,
  freePort,
  newDeployer,
  newStateDir,
  opts,
  revision,
} from '../deployers/local-process-fixtures.js';
import { type Lab, startLab } from '../deployers/ssh/fixtures.js';

const BP_OWN = {
  PGPASSWORD: 'pg-pass-7781-own',
  AWS_SECRET_ACCESS_KEY: 'aws-key-9912-own',
  BP_WEBHOOK_SECRET: 'hook-4410-own',
};
const TOKENS = { 'web-v1': 'tok-v1-1c2d3e4f', 'web-v2': 'tok-v2-5a6b7c8d' } as const;
// What a process may see besides what it declares; PWD/SHLVL/_ are set by sh itself.
const ALLOWED = new Set(['PATH', 'HOME', 'PORT', 'PWD', 'SHLVL', '_', 'OLDPWD']);

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}
const cmdlineOf = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');

function files(dir: string, name: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), name) : name(e.name) ? [join(dir, e.name)] : [],
  );
}

function envFor(listen: string, base?: string): DeployerEnvironment {
  const revs = (['web-v1', 'web-v2'] as const).map((id) =>
    revision(id, { artifact: { command: ['node', 'app/server.mjs'], env: { VERSION: id, TOKEN: TOKENS[id] } } }),
  );
  return environment(
    [
      deployment('web', listen, revs, [
        { revision_id: 'web-v1', weight_bps: 5000 },
        { revision_id: 'web-v2', weight_bps: 5000 },
      ]),
    ],
    base,
  );
}

async function warmAndRoute(d: Deployer, env: DeployerEnvironment): Promise<void> {
  for (const id of ['web-v1', 'web-v2']) {
    await d.stageRevision(env, id, opts());
    await d.warmRevision(env, id, opts());
  }
  await d.applyTrafficSplit(env, 'web', opts());
}

function expectReplica(pid: number, id: 'web-v1' | 'web-v2'): void {
  const env = environOf(pid);
  const other = id === 'web-v1' ? TOKENS['web-v2'] : TOKENS['web-v1'];
  expect(env.TOKEN).toBe(TOKENS[id]);
  expect(env.VERSION).toBe(id);
  expect(env.PORT).toMatch(/^[0-9]+$/);
  expect(Object.keys(env).filter((k) => !ALLOWED.has(k) && k !== 'TOKEN' && k !== 'VERSION')).toEqual([]);
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  for (const v of [other, ...Object.values(BP_OWN)]) expect(raw).not.toContain(v);
  const cmd = cmdlineOf(pid);
  for (const v of [...Object.values(TOKENS), ...Object.values(BP_OWN)]) expect(cmd).not.toContain(v);
}

function expectRouter(pid: number, token: string): void {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  expect(Object.keys(environOf(pid)).filter((k) => !ALLOWED.has(k))).toEqual([]);
  for (const v of [token, ...Object.values(TOKENS), ...Object.values(BP_OWN)]) {
    expect(raw).not.toContain(v);
    expect(cmdlineOf(pid)).not.toContain(v);
  }
}

const saved: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const [k, v] of Object.entries(BP_OWN)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('local-process: least environment', () => {
  const stateDir = newStateDir();
  let d: Deployer;
  let env: DeployerEnvironment;
  beforeAll(async () => {
    d = await newDeployer(stateDir);
    env = envFor(`127.0.0.1:${await freePort()}`);
    await warmAndRoute(d, env);
  }, 60_000);
  afterAll(async () => {
    const down = { ...env, deployments: env.deployments.map((x) => ({ ...x, traffic: [] })) };
    await d.applyTrafficSplit(down, 'web', opts()).catch(() => undefined);
    for (const id of ['web-v1', 'web-v2']) await d.archiveRevision(env, id, opts()).catch(() => undefined);
    await d.close?.();
  }, 60_000);

  it('each replica sees PATH, HOME, PORT and its own revision only', () => {
    for (const id of ['web-v1', 'web-v2'] as const) {
      const recs = files(stateDir, (f) => f === 'replicas.json').filter((f) => f.includes(id));
      expect(recs).toHaveLength(1);
      const [rec] = JSON.parse(readFileSync(recs[0], 'utf8')) as Array<{ pid: number }>;
      expectReplica(rec.pid, id);
    }
  });

  it('the router gets its admin token from a deleted 0600 file: not in environ, not in argv', async () => {
    const [file] = files(stateDir, (f) => f === 'router.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; token: string };
    expectRouter(rec.pid, rec.token);
    expect(files(stateDir, (f) => f === 'admin.token')).toEqual([]);
    expect(cmdlineOf(rec.pid)).toContain('--token-file');
  });
});

describe('ssh: least environment and a 0600 env file per revision', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab(1);
    const d = await lab.deployer(lab.config({ hosts: [lab.hostConfig(0)] }));
    await warmAndRoute(d, envFor(`127.0.0.1:${await freePort()}`, lab.appDir()));
  }, 90_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('each replica sees PATH, HOME, PORT and its own revision only', () => {
    for (const id of ['web-v1', 'web-v2'] as const) {
      const recs = files(lab.remoteDirs[0], (f) => /^replica-\d+\.rec$/.test(f)).filter((f) => f.includes(`/${id}/`));
      expect(recs.length).toBeGreaterThan(0);
      expectReplica(Number(readFileSync(recs[0], 'utf8').split(' ')[0]), id);
    }
  });

  it('the values live on the host in one 0600 env file per revision', () => {
    const envFiles = files(lab.remoteDirs[0], (f) => f === 'revision.env');
    expect(envFiles).toHaveLength(2);
    for (const f of envFiles) {
      const { mode } = statSync(f);
      expect(mode & 0o777).toBe(0o600);
    }
  });

  it('the router gets its admin token from a deleted 0600 file: not in environ, not in argv', () => {
    const [rec] = files(lab.remoteDirs[0], (f) => f === 'router.rec');
    const [pid, , , , token] = readFileSync(rec, 'utf8').trim().split(' ');
    expectRouter(Number(pid), token);
    expect(files(lab.remoteDirs[0], (f) => f === 'admin.token')).toEqual([]);
  });
});
