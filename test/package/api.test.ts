/**
 * The programmatic API (docs/api.md) through the BUILT package entry, as a service embedding
 * bp would import it: load -> plan -> apply (real local processes behind the real router) ->
 * state -> runtime config -> destroy, in-process, with nothing printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

type Api = typeof import('../../src/index.js');
let bp: Api;
let dir: string;
let port: number;

beforeAll(async () => {
  // dist/ is rebuilt by vitest's global setup; this is what `import 'bp-deploy'` loads.
  bp = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Api;
  dir = mkdtempSync(join(tmpdir(), 'bp-api-'));
  port = await freePort();
  const app = join(ROOT, 'examples', 'app', 'server.mjs');
  writeFileSync(
    join(dir, 'env.yaml'),
    [
      'schema: bp.environment/v1',
      'environment_id: embedded',
      'deployers:',
      '  local: { type: local-process, config: {} }',
      'deployments:',
      '  - deployment_id: web',
      '    deployer: local',
      `    listen: 127.0.0.1:${port}`,
      '    revisions:',
      '      - revision_id: web-v1',
      `        artifact: { command: [node, ${JSON.stringify(app)}], env: { VERSION: v1 } }`,
      '        health: { http_path: /healthz, timeout_seconds: 20 }',
      '        drain_seconds: 0',
      '    traffic:',
      '      - { revision_id: web-v1, weight_bps: 10000 }',
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('programmatic API from dist/index.js', () => {
  it('load -> plan -> apply -> state -> runtime config -> destroy, printing nothing', async () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const stateDir = join(dir, '.bp');
    const events: Array<{ event: string; format_version: string }> = [];
    const opts = { stateDir, onEvent: (e: { event: string; format_version: string }) => void events.push(e) };

    const env = await bp.loadEnvironment(join(dir, 'env.yaml'));
    expect(env.environmentId).toBe('embedded');

    const plan = await bp.planEnvironment(env, opts);
    expect(plan).toMatchObject({ format_version: 'bp.plan/v1', changes: true });
    expect(plan.steps.map((s) => s.id)).toEqual(['stage:web/web-v1', 'warm:web/web-v1', 'split:web']);

    let asked = 0;
    const applied = await bp.applyEnvironment(env, {
      ...opts,
      plan,
      confirm: () => {
        asked++;
        return true;
      },
    });
    expect(applied.ok, JSON.stringify(applied.result)).toBe(true);
    expect(asked).toBe(1);
    expect(applied.result?.succeeded).toBe(3);
    expect(events.map((e) => e.event)).toContain('step.succeeded');
    expect(events.every((e) => e.format_version === 'bp.apply-event/v1')).toBe(true);

    // Really serving through the router.
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.headers.get('x-version')).toBe('v1');
    await res.text();

    const state = await bp.readState('embedded', { stateDir });
    expect(state?.revisions['web-v1'].lifecycle).toBe('ready');
    expect(await bp.listEnvironments({ stateDir })).toEqual(['embedded']);
    const config = await bp.readRuntimeConfig('embedded', { stateDir });
    expect(config).toMatchObject({
      format_version: 'bp.runtime-config/v1',
      environment_id: 'embedded',
      revisions: [{ deployment_id: 'web', revision_id: 'web-v1', weight_bps: 10000 }],
    });

    // Applying again: nothing to do, nothing asked.
    const again = await bp.applyEnvironment(env, { stateDir, confirm: () => Promise.reject(new Error('asked')) });
    expect(again).toMatchObject({ ok: true, result: null, cancelled: false });

    const destroyed = await bp.destroyEnvironment(env, { stateDir });
    expect(destroyed.ok, JSON.stringify(destroyed.result)).toBe(true);
    const after = await bp.readState('embedded', { stateDir });
    expect(after?.revisions['web-v1']?.lifecycle ?? 'archived').toBe('archived');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();

    expect(stdout).not.toHaveBeenCalled();
    stdout.mockRestore();
  }, 120_000);

  it('reports invalid input as a typed error, not an exit', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'schema: bp.environment/v1\nenvironment_id: x\n');
    const err = await bp.loadEnvironment(join(dir, 'bad.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(bp.BpError);
    expect((err as InstanceType<typeof bp.BpError>).code).toBe('InvalidInput');
    expect(await bp.readState('nothing-here', { stateDir: join(dir, '.bp') })).toBeNull();
    expect(await bp.readRuntimeConfig('nothing-here', { stateDir: join(dir, '.bp') })).toBeNull();
  });
});
