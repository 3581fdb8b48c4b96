/** The fake kube-apiserver's own behaviour (BEHAVIOUR.md), over raw HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';

let kube: FakeKube;
beforeAll(async () => {
  kube = await startFakeKubeApiServer({ readyDelayMs: 10 });
});
afterAll(() => kube?.close());

const base = '/apis/apps/v1/namespaces/default/deployments';
async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(kube.url + path, {
    method,
    headers: { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
}
const deployment = (replicas: number, label = 'x') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'ssa', labels: { team: label } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'ssa' } },
    template: { metadata: { labels: { app: 'ssa' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } },
  },
});
const APPLY = 'application/apply-patch+yaml';

describe('fake kube-apiserver', () => {
  it('serves discovery and Status errors', async () => {
    expect((await call('GET', '/apis/apps/v1')).body.resources.map((r: any) => r.name)).toContain('deployments');
    expect((await call('GET', '/apis')).body.groups.map((g: any) => g.name)).toEqual(
      expect.arrayContaining(['apps', 'gateway.networking.k8s.io']),
    );
    const missing = await call('GET', `${base}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
      code: 404,
    });
  });

  it('implements server-side apply: fieldManager required, ownership, conflicts with causes, force', async () => {
    expect((await call('PATCH', `${base}/ssa`, deployment(1), APPLY)).status).toBe(422);
    const created = await call('PATCH', `${base}/ssa?fieldManager=bp`, deployment(1), APPLY);
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({
      generation: 1,
      managedFields: [{ manager: 'bp', operation: 'Apply' }],
    });
    // An identical apply changes no spec (the controller's status writes still move resourceVersion).
    expect((await call('PATCH', `${base}/ssa?fieldManager=bp`, deployment(1), APPLY)).body.metadata.generation).toBe(1);

    const scaled = await call(
      'PATCH',
      `${base}/ssa?fieldManager=kubectl`,
      { spec: { replicas: 3 } },
      'application/merge-patch+json',
    );
    expect(scaled.body.metadata.generation).toBe(2);
    const conflict = await call('PATCH', `${base}/ssa?fieldManager=bp`, deployment(1), APPLY);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', field: '.spec.replicas', message: 'conflict with "kubectl" using apps/v1' },
        ],
      },
    });
    // The same value is shared ownership, not a conflict; force takes the field.
    expect((await call('PATCH', `${base}/ssa?fieldManager=bp`, deployment(3), APPLY)).status).toBe(200);
    const forced = await call('PATCH', `${base}/ssa?fieldManager=bp&force=true`, deployment(2), APPLY);
    expect(forced.body.spec.replicas).toBe(2);
    expect(forced.body.metadata.managedFields.map((m: any) => m.manager)).toEqual(['bp']);
    // A field the applier stops sending is removed.
    const noLabels = deployment(2);
    delete (noLabels.metadata as any).labels;
    expect((await call('PATCH', `${base}/ssa?fieldManager=bp`, noLabels, APPLY)).body.metadata.labels).toBeUndefined();
  });

  it('rejects a stale resourceVersion and an invalid selector; filters by label selector', async () => {
    const live = (await call('GET', `${base}/ssa`)).body;
    expect(
      (await call('PUT', `${base}/ssa`, { ...live, metadata: { ...live.metadata, resourceVersion: '1' } })).status,
    ).toBe(409);
    const bad = deployment(1);
    bad.spec.template.metadata.labels.app = 'other';
    const invalid = await call(
      'PATCH',
      `/apis/apps/v1/namespaces/default/deployments/bad?fieldManager=bp`,
      { ...bad, metadata: { name: 'bad' } },
      APPLY,
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toMatch(/selector` does not match template `labels`/);
    await call('PATCH', `${base}/ssa?fieldManager=bp`, deployment(1, 'red'), APPLY);
    expect((await call('GET', `${base}?labelSelector=team%3Dred`)).body.items).toHaveLength(1);
    expect((await call('GET', `${base}?labelSelector=team%20in%20(blue)`)).body.items).toHaveLength(0);
  });

  it('applies fault rules and journals requests', async () => {
    kube.faults.add({ method: 'GET', path: '/deployments', status: 429, retryAfterSeconds: 2, times: 1 });
    const throttled = await call('GET', base);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(throttled.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
    expect((await call('GET', base)).status).toBe(200);
    expect(
      kube.journal
        .find('GET', '/deployments')
        .map((e) => e.status)
        .slice(-2),
    ).toEqual([429, 200]);
  });
});
