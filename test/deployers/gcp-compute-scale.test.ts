/**
 * Refresh that scales: gcp-compute's `observe` of an environment of 1,000 revisions reads one
 * paginated list per resource kind (templates, health checks, groups, backend services, VMs,
 * URL maps) and makes per-revision calls only for backend-service health (`getHealth` has no
 * list form). Counted in the fake's request journal; the fake pages every list (5 items).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import {
  deploymentNames,
  describe as marker,
  LABELS,
  labelValue,
  REVISION_METADATA_KEY,
  revisionNames,
} from '../../src/deployers/gcp-compute/names.js';
import type { Deployer } from '../../src/model/deployer.js';
import { countBy, pages, REVISIONS } from './scale-fixtures.js';
import { observeSeeded, PAGE, scaleDeclarations, type ScaleDeployment } from './scale-fixtures.js';
import { LINK_BASE } from '../fakes/gcp/store.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { environment, fakeConfig, globalScope, revision, startFake, zoneScope } from './gcp-compute-fixtures.js';

const ENV = 'big';

let fake: FakeGce;
let deployer: Deployer;
beforeAll(async () => {
  // VMs serve at once; the guest ticker is stopped so 1,000 groups cost nothing between calls.
  fake = await startFake({ opDelayMs: 0, pageSize: PAGE, timings: { bootMs: 0, healthyAfterMs: 0 } });
  fake.guests.close();
  deployer = await plugin.create(fakeConfig(fake), {
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    stateDir: '/nonexistent',
  });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

/** Builds the provider side directly in the fake, as 1,000 warms and 200 splits would leave it. */
function seed(deployments: ScaleDeployment[]): void {
  const { store, guests } = fake;
  const link = (scope: string, kind: string, name: string) => `${LINK_BASE}${scope}/${kind}/${name}`;
  for (const d of deployments) {
    const weighted: Array<{ backendService: string; weight: number }> = [];
    for (const [k, rev] of d.revisions.entries()) {
      const n = revisionNames(ENV, rev);
      const description = marker({ environment: ENV, deployment: d.id, revision: rev });
      const template = store.put(globalScope, 'instanceTemplates', {
        name: n.template,
        description,
        properties: {
          labels: { [LABELS.environment]: labelValue(ENV), [LABELS.revision]: labelValue(rev) },
          metadata: { items: [{ key: REVISION_METADATA_KEY, value: rev }] },
        },
      });
      store.put(globalScope, 'healthChecks', { name: n.healthCheck, description });
      const group = link(zoneScope, 'instanceGroups', n.group);
      const mig = store.put(zoneScope, 'instanceGroupManagers', {
        name: n.group,
        description,
        targetSize: 1,
        instanceGroup: group,
        instanceTemplate: template.selfLink,
        baseInstanceName: n.group,
      });
      store.put(globalScope, 'backendServices', {
        name: n.backendService,
        description,
        backends: [{ group }],
        healthChecks: [link(globalScope, 'healthChecks', n.healthCheck)],
      });
      guests.createInstance(zoneScope, `${n.group}-0`, template, mig.selfLink).status = 'RUNNING';
      weighted.push({
        backendService: link(globalScope, 'backendServices', n.backendService),
        weight: k === 0 ? 1000 : 0,
      });
    }
    store.put(globalScope, 'urlMaps', {
      name: deploymentNames(ENV, d.id).urlMap,
      description: marker({ environment: ENV, deployment: d.id }),
      defaultRouteAction: { weightedBackendServices: weighted },
    });
  }
}

describe('gcp-compute observe at scale', () => {
  it('observes 1,000 revisions with paginated lists and one health call per revision', async () => {
    const {
      deployments,
      seen,
      calls: all,
    } = await observeSeeded(deployer, fake.journal, seed, (ds) => environment(scaleDeclarations(ds, revision), ENV));

    expect(Object.values(seen.revisions).filter((r) => r.present && r.healthy)).toHaveLength(REVISIONS);
    expect(seen.splits.d7).toEqual([
      { revision_id: 'd7-r0', weight_bps: 10000 },
      ...[1, 2, 3, 4].map((r) => ({ revision_id: `d7-r${r}`, weight_bps: 0 })),
    ]);
    const calls = all.filter((j) => j.path !== '/v1/token');
    const kindOf = (path: string) => /\/(global|zones\/[^/]+)\/([A-Za-z]+)(\/[^/]+\/([A-Za-z]+))?$/.exec(path);
    const measured = countBy(calls, (j) => {
      const m = kindOf(j.path);
      return m ? `${j.method} ${m[2]}${m[4] ? `.${m[4]}` : ''}` : `${j.method} ${j.path}`;
    });
    console.log(`gcp-compute observe of ${REVISIONS} revisions: ${calls.length} calls ${JSON.stringify(measured)}`);
    expect(measured).toEqual({
      'GET instanceTemplates': pages(REVISIONS),
      'GET healthChecks': pages(REVISIONS),
      'GET instanceGroupManagers': pages(REVISIONS),
      'GET backendServices': pages(REVISIONS),
      'GET instances': pages(REVISIONS),
      'GET urlMaps': pages(deployments.length),
      // The only per-revision call: backend-service health has no list form.
      'POST backendServices.getHealth': REVISIONS,
    });
  }, 180_000);
});
