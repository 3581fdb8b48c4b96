import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { buildFixture, freeLoopbackPort, REVISION_ENV_VAR, writeFixtureServer } from '../../src/conformance/fixture.js';
import { ID_REGEX } from '../../src/model/environment.js';
import { scratchDir } from './helpers.js';

describe('the generated fixture', () => {
  it('runs a real revision server that answers every path with its revision id', async () => {
    const serverPath = await writeFixtureServer(scratchDir());
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, [serverPath], {
      env: { ...process.env, PORT: String(port), [REVISION_ENV_VAR]: 'web-v7' },
      stdio: 'ignore',
    });
    try {
      let res: Response | undefined;
      for (let i = 0; i < 100 && !res; i++) {
        res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 50));
      }
      expect(res?.status).toBe(200);
      expect(await res!.text()).toBe('web-v7\n');
      const other = await fetch(`http://127.0.0.1:${port}/any/path`);
      expect(await other.text()).toBe('web-v7\n');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 20_000);

  it('builds an environment with valid ids, distinct free ports and revisions in several lifecycle states', async () => {
    const { ids, env } = await buildFixture({
      prefix: 'bench1k1',
      environmentId: 'bench-1',
      deployerType: 'memory',
      config: {},
      serverPath: '/tmp/server.mjs',
      baseDir: '/tmp',
    });
    const revisions = env.deployments.flatMap((d) => d.revisions);
    for (const id of [
      env.environment_id,
      ...env.deployments.map((d) => d.deployment_id),
      ...revisions.map((r) => r.revision_id),
      ids.ghost,
    ]) {
      expect(id).toMatch(ID_REGEX);
      expect(id === env.environment_id || id.startsWith(ids.prefix)).toBe(true);
    }
    expect(new Set(env.deployments.map((d) => d.listen)).size).toBe(3);
    expect(new Set(revisions.map((r) => r.lifecycle))).toEqual(new Set(['inactive', 'archived']));
    expect(new Set(revisions.map((r) => r.state))).toEqual(new Set(['ready', 'inactive', 'archived']));
    const a1 = revisions.find((r) => r.revision_id === ids.a1)!;
    expect(a1.artifact).toEqual({
      command: [process.execPath, '/tmp/server.mjs'],
      env: { [REVISION_ENV_VAR]: ids.a1 },
    });
    expect(a1.drain_seconds).toBe(1);
  });

  it('uses a configured artifact, and an unrunnable image for the error-shape revision', async () => {
    const { ids, env } = await buildFixture({
      prefix: 'bench1k2',
      environmentId: 'bench-1',
      deployerType: 'docker',
      config: {},
      serverPath: '/tmp/server.mjs',
      baseDir: '/tmp',
      options: { artifact: { image: 'example/server:1', env: { A: 'b' } } },
    });
    const revisions = env.deployments.flatMap((d) => d.revisions);
    expect(revisions.find((r) => r.revision_id === ids.b1)!.artifact).toEqual({
      image: 'example/server:1',
      env: { A: 'b', [REVISION_ENV_VAR]: ids.b1 },
    });
    expect(revisions.find((r) => r.revision_id === ids.cBroken)!.artifact.image).toMatch(/\.invalid\//);
  });
});
