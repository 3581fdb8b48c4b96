import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames, renderHuman, runConformance } from '../../src/conformance/index.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';
import { collect, spawnBp } from '../helpers/cli.js';

const FIXTURE = { artifact: { image: 'bp-fixture:1', env: {} } };
let kube: FakeKube;
let dir: string;

beforeAll(async () => {
  kube = await startFakeKubeApiServer({ readyDelayMs: 40 });
  dir = mkdtempSync(join(tmpdir(), 'bp-k8s-bench-'));
});
afterAll(async () => {
  await kube?.close();
  rmSync(dir, { recursive: true, force: true });
});

const failed = (r: Awaited<ReturnType<typeof runConformance>>) =>
  r.checks.filter((c) => c.status === 'fail').map((c) => c.name);

describe('the k8s deployer against the fake kube-apiserver', () => {
  it('passes the conformance bench in replicas mode', async () => {
    const report = await runConformance({
      type: 'k8s',
      baseDir: process.cwd(),
      config: {
        kubeconfig: writeKubeconfig(kube.url, { dir }),
        namespace: 'default',
        poll_interval_ms: 25,
        traffic: 'replicas',
      },
      stateDir: join(dir, 'replicas'),
      fixture: FIXTURE,
    });
    expect(failed(report), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    // Nothing of the bench is left in the cluster.
    expect(kube.objects('apps/v1', 'Deployment', 'default', 'app.kubernetes.io/managed-by=bp')).toEqual([]);
  });

  it('passes `bp conformance k8s` in gateway-api mode through the CLI', async () => {
    kube.addNamespace('bench');
    const config = join(dir, 'k8s.yaml');
    writeFileSync(
      config,
      [
        `kubeconfig: ${writeKubeconfig(kube.url, { dir: mkdtempSync(join(dir, 'gw-')) })}`,
        'namespace: bench',
        'traffic: gateway-api',
        'gateway: { name: public, namespace: infra }',
        'poll_interval_ms: 25',
      ].join('\n'),
    );
    const r = await collect(
      spawnBp(['conformance', 'k8s', '--config', config, '--fixture-image', 'bp-fixture:1'], { cwd: dir }),
    );
    expect(r.stdout, r.stderr).toMatch(/\d+ passed, 0 failed/);
    expect(r.code).toBe(0);
    expect(kube.journal.find('PATCH', '/httproutes/').length).toBeGreaterThan(0);
    expect(kube.objects('gateway.networking.k8s.io/v1', 'HTTPRoute', 'bench')).toEqual([]);
  });
});
