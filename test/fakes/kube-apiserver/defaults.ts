/**
 * Server-side defaulting (BEHAVIOUR.md, "Validation and defaults"), as the API server's
 * `SetDefaults_*` functions and the Gateway API CRD schema defaults fill in fields a client
 * left out. Defaulted fields are owned by no field manager.
 */
import { isPlainObject, type Obj } from './fields.js';
import type { ResourceType } from './resources.js';

const obj = (parent: Obj, key: string): Obj => (isPlainObject(parent[key]) ? parent[key] : (parent[key] = {})) as Obj;
const items = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);

/** `:latest` or no tag pulls Always; anything else IfNotPresent (a digest too). */
function pullPolicy(image: unknown): string {
  const ref = String(image ?? '');
  if (ref.includes('@')) return 'IfNotPresent';
  const last = ref.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown): void {
  if (!isPlainObject(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isPlainObject(p.httpGet)) p.httpGet.scheme ??= 'HTTP';
}

export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const c of [...items(spec.containers), ...items(spec.initContainers)]) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.imagePullPolicy ??= pullPolicy(c.image);
    for (const p of items(c.ports)) p.protocol ??= 'TCP';
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) defaultProbe(c[probe]);
  }
}

export function applyDefaults(t: ResourceType, o: Obj, live: Obj | undefined, allocateIp: () => string): void {
  const spec = obj(o, 'spec');
  switch (t.kind) {
    case 'Deployment': {
      spec.replicas ??= 1;
      spec.progressDeadlineSeconds ??= 600;
      spec.revisionHistoryLimit ??= 10;
      const strategy = obj(spec, 'strategy');
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        ru.maxSurge ??= '25%';
        ru.maxUnavailable ??= '25%';
      }
      defaultPodSpec(obj(obj(spec, 'template'), 'spec'));
      o.status ??= {};
      break;
    }
    case 'Service': {
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      spec.clusterIP ??= ((live?.spec as Obj | undefined)?.clusterIP as string | undefined) ?? allocateIp();
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(spec.ports))
        spec.ports = items(spec.ports).map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p }));
      break;
    }
    case 'Secret': {
      // stringData is write-only: merged into data (base64), never stored or returned.
      o.type ??= 'Opaque';
      if (isPlainObject(o.stringData)) {
        const data = obj(o, 'data');
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      delete o.stringData;
      break;
    }
    case 'HorizontalPodAutoscaler': {
      spec.minReplicas ??= 1;
      if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
        spec.metrics = [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
        ];
      }
      break;
    }
    case 'HTTPRoute': {
      for (const p of items(spec.parentRefs)) {
        p.group ??= 'gateway.networking.k8s.io';
        p.kind ??= 'Gateway';
      }
      if (!Array.isArray(spec.rules)) spec.rules = [{}];
      for (const r of items(spec.rules)) {
        if (!Array.isArray(r.matches) || r.matches.length === 0)
          r.matches = [{ path: { type: 'PathPrefix', value: '/' } }];
        for (const m of items(r.matches)) {
          const path = obj(m, 'path');
          path.type ??= 'PathPrefix';
          path.value ??= '/';
        }
        for (const b of items(r.backendRefs)) {
          b.group ??= '';
          b.kind ??= 'Service';
          b.weight ??= 1;
        }
      }
      break;
    }
    default:
      break;
  }
  if (!t.hasSpec && Object.keys(spec).length === 0) delete o.spec;
}
