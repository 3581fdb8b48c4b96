/**
 * The fake kube-apiserver refuses what a real one refuses (BEHAVIOUR.md, "Validation and
 * defaults", "Watch", "HPA controller"): each request below is one a real API server rejects
 * or answers in a particular way, sent over raw HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';

let kube: FakeKube;
beforeAll(async () => {
  kube = await startFakeKubeApiServer({ readyDelayMs: 10, tickMs: 10 });
});
afterAll(() => kube?.close());

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const APPLY = 'application/apply-patch+yaml';
async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const r = await fetch(kube.url + path, {
    method,
    headers: { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}
function deployment(name: string, container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      ...spec,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'img:1', ...container }] },
      },
    },
  };
}
const apply = (name: string, body: unknown, query = '') =>
  call('PATCH', `${DEPLOYMENTS}/${name}?fieldManager=test${query}`, body, APPLY);

describe('schema validation (kubernetes-models OpenAPI schemas)', () => {
  it('refuses a fraction where the API wants an int32, and a malformed quantity, as the decoder does (400)', async () => {
    const fraction = await apply(
      'frac',
      deployment('frac', { readinessProbe: { httpGet: { path: '/', port: 8080 }, timeoutSeconds: 2.5 } }),
    );
    expect(fraction.status).toBe(400);
    expect(fraction.body).toMatchObject({ reason: 'BadRequest' });
    expect(fraction.body.message).toMatch(
      /cannot be handled as a Deployment: spec\.template\.spec\.containers\[0\]\.readinessProbe\.timeoutSeconds: Invalid value: 2\.5: must be integer/,
    );
    const quantity = await apply('qty', deployment('qty', { resources: { requests: { cpu: 'lots' } } }));
    expect(quantity.status).toBe(400);
    expect(quantity.body.message).toMatch(/resources\.requests\.cpu: Invalid value: "lots"/);
    expect(kube.object('apps/v1', 'Deployment', 'default', 'frac')).toBeUndefined();
  });

  it('refuses out-of-range ports, bad env names, requests above limits, negative replicas (422 with causes)', async () => {
    const r = await apply(
      'ranges',
      deployment(
        'ranges',
        {
          ports: [{ containerPort: 70000 }],
          env: [{ name: '1BAD', value: 'x' }],
          resources: { requests: { memory: '256Mi' }, limits: { memory: '128Mi' } },
        },
        { replicas: -1 },
      ),
    );
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details.causes.map((c: any) => c.field)).toEqual(
      expect.arrayContaining([
        'spec.replicas',
        'spec.template.spec.containers[0].ports[0].containerPort',
        'spec.template.spec.containers[0].env[0].name',
        'spec.template.spec.containers[0].resources.requests',
      ]),
    );
    const svc = await call(
      'PATCH',
      '/api/v1/namespaces/default/services/s?fieldManager=test',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's' },
        spec: { ports: [{ port: 0, targetPort: 'Not_A_Name' }] },
      },
      APPLY,
    );
    expect(svc.status).toBe(422);
    expect(svc.body.details.causes.map((c: any) => c.field)).toEqual([
      'spec.ports[0].port',
      'spec.ports[0].targetPort',
    ]);
  });

  it('refuses HTTPRoute weights, hostnames and paths outside the Gateway API CRD schema', async () => {
    const r = await call(
      'PATCH',
      '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r?fieldManager=test',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r' },
        spec: {
          hostnames: ['Shop.Example.com'],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: 'api' } }],
              backendRefs: [{ name: 'a', port: 80, weight: 2_000_000 }, { name: 'b' }],
            },
          ],
        },
      },
      APPLY,
    );
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: any) => c.field)).toEqual([
      'spec.hostnames[0]',
      'spec.rules[0].matches[0].path.value',
      'spec.rules[0].backendRefs[0].weight',
      'spec.rules[0].backendRefs[1]',
    ]);
  });
});

describe('server-side apply on associative lists', () => {
  it('refuses duplicate env names in an apply with 500, as the typed-patch builder does; create refuses duplicate containers', async () => {
    const dup = await apply(
      'dup',
      deployment('dup', {
        env: [
          { name: 'PORT', value: '1' },
          { name: 'PORT', value: '2' },
        ],
      }),
    );
    expect(dup.status).toBe(500);
    expect(dup.body.message).toMatch(/duplicate entries for key \[name="PORT"\]/);
    const body = deployment('dup2');
    body.spec.template.spec.containers.push({ name: 'app', image: 'img:2' });
    const created = await call('POST', DEPLOYMENTS, body);
    expect(created.status).toBe(422);
    expect(created.body.details.causes[0]).toMatchObject({
      reason: 'FieldValueDuplicate',
      field: 'spec.template.spec.containers[1]',
    });
  });
});

describe('defaults, dryRun and fieldSelector', () => {
  it('fills in the API defaults, owned by no field manager', async () => {
    const r = await apply(
      'defaults',
      deployment('defaults', { readinessProbe: { httpGet: { path: '/', port: 8080 } } }),
    );
    expect(r.status).toBe(201);
    const pod = r.body.spec.template.spec;
    expect(pod).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
    });
    expect(pod.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePolicy: 'File',
      readinessProbe: {
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
        httpGet: { scheme: 'HTTP' },
      },
    });
    expect(r.body.spec).toMatchObject({
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate' },
    });
    expect(JSON.stringify(r.body.metadata.managedFields)).not.toContain('dnsPolicy');
  });

  it('answers a dry run with the result and stores nothing', async () => {
    const dry = await apply('dry', deployment('dry'), '&dryRun=All');
    expect(dry.status).toBe(201);
    expect(dry.body.spec.template.spec.restartPolicy).toBe('Always');
    expect(kube.object('apps/v1', 'Deployment', 'default', 'dry')).toBeUndefined();
    await apply('dry', deployment('dry'));
    expect((await call('DELETE', `${DEPLOYMENTS}/dry?dryRun=All`)).status).toBe(200);
    expect(kube.object('apps/v1', 'Deployment', 'default', 'dry')).toBeDefined();
    const invalid = await apply('dry', deployment('dry', {}, { replicas: 1.5 }), '&dryRun=All');
    expect(invalid.status).toBe(400);
    expect((await call('GET', `${DEPLOYMENTS}?dryRun=Some`)).status).toBe(200);
    expect((await apply('dry', deployment('dry'), '&dryRun=Some')).status).toBe(400);
  });

  it('filters lists by fieldSelector and refuses fields it does not support', async () => {
    await apply('fs-a', deployment('fs-a'));
    await apply('fs-b', deployment('fs-b'));
    const one = await call('GET', `${DEPLOYMENTS}?fieldSelector=metadata.name%3Dfs-a`);
    expect(one.body.items.map((d: any) => d.metadata.name)).toEqual(['fs-a']);
    const not = await call('GET', `${DEPLOYMENTS}?fieldSelector=metadata.name!%3Dfs-a`);
    expect(not.body.items.map((d: any) => d.metadata.name)).toContain('fs-b');
    expect(not.body.items.map((d: any) => d.metadata.name)).not.toContain('fs-a');
    const bad = await call('GET', `${DEPLOYMENTS}?fieldSelector=spec.replicas%3D1`);
    expect(bad).toMatchObject({ status: 400, body: { message: 'field label not supported: spec.replicas' } });
  });
});

describe('watch', () => {
  /** Reads watch events from a streaming response until `until` says stop. */
  async function events(path: string, until: (seen: any[]) => boolean, act?: () => Promise<void>): Promise<any[]> {
    const ac = new AbortController();
    const r = await fetch(kube.url + path, { signal: ac.signal });
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    const reader = r.body!.getReader();
    const seen: any[] = [];
    let buf = '';
    const acting = act?.();
    while (!until(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        seen.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    }
    ac.abort();
    await acting;
    return seen;
  }

  it('streams ADDED/MODIFIED/DELETED for the selected object only, from a resourceVersion', async () => {
    await apply('w1', deployment('w1'));
    await apply('w2', deployment('w2'));
    const list = await call('GET', `${DEPLOYMENTS}?fieldSelector=metadata.name%3Dw1`);
    const rv = list.body.metadata.resourceVersion;
    const seen = await events(
      `${DEPLOYMENTS}?watch=true&fieldSelector=metadata.name%3Dw1&resourceVersion=${rv}`,
      (s) => s.some((e) => e.type === 'DELETED'),
      async () => {
        await apply('w2', deployment('w2', {}, { replicas: 2 }));
        await apply('w1', deployment('w1', {}, { replicas: 3 }));
        await call('DELETE', `${DEPLOYMENTS}/w1`);
      },
    );
    expect(seen.every((e) => e.object.metadata.name === 'w1')).toBe(true);
    expect(seen.some((e) => e.type === 'MODIFIED' && e.object.spec.replicas === 3)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ type: 'DELETED', object: { kind: 'Deployment', metadata: { name: 'w1' } } });
    expect(seen.some((e) => e.type === 'ADDED')).toBe(false);
  });

  it('starts with the current objects without a resourceVersion, and says 410 for one too old', async () => {
    await apply('w3', deployment('w3'));
    const seen = await events(`${DEPLOYMENTS}?watch=1&labelSelector=app%3Dw3`, (s) => s.length >= 1);
    expect(seen[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w3' } } });
    const old = await events(`${DEPLOYMENTS}?watch=true&resourceVersion=1`, (s) => s.length >= 1);
    expect(old[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });
});

describe('HPA controller', () => {
  it('scales the target within [minReplicas, maxReplicas] as field manager kube-controller-manager', async () => {
    await apply('auto', deployment('auto', {}, { replicas: 1 }));
    const hpa = (min: number, max: number) =>
      call(
        'PATCH',
        '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/auto?fieldManager=test',
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'auto' },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'auto' },
            minReplicas: min,
            maxReplicas: max,
          },
        },
        APPLY,
      );
    expect((await hpa(3, 2)).status).toBe(422);
    expect((await hpa(2, 4)).status).toBe(201);
    const replicas = () => (kube.object('apps/v1', 'Deployment', 'default', 'auto') as any).spec.replicas;
    const until = async (want: number) => {
      for (let i = 0; i < 500 && replicas() !== want; i++) await new Promise((r) => setTimeout(r, 10));
      return replicas();
    };
    expect(await until(2)).toBe(2);
    kube.controller.options.cpuUtilization['default/auto'] = 400;
    expect(await until(4)).toBe(4);
    const d = kube.object('apps/v1', 'Deployment', 'default', 'auto') as any;
    expect(d.metadata.managedFields.find((m: any) => m.manager === 'kube-controller-manager')).toBeDefined();
    const status = (kube.object('autoscaling/v2', 'HorizontalPodAutoscaler', 'default', 'auto') as any).status;
    expect(status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' }),
      ]),
    );
  });
});
