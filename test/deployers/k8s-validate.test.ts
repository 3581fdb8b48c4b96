/**
 * What the k8s deployer refuses at validate (src/deployers/k8s/env-checks.ts through the
 * plugin's checkEnvironment), each problem at the FILE:LINE:COL of the offending value.
 */
import { describe, expect, it } from 'vitest';
import { validationLab } from '../helpers/validate-problems.js';

const { problems } = validationLab('bp-k8s-validate');

const header = (config: string) => `schema: bp.environment/v1
environment_id: prod
deployers:
  kube:
    type: k8s
    config: ${config}
deployments:
`;

const revision = (id: string, extra = '') => `      - revision_id: ${id}
        artifact: { image: "registry.example/app:1", env: { GREETING: hi${extra} } }
`;
const traffic = (id: string) => `    traffic: [{ revision_id: ${id}, weight_bps: 10000 }]
`;

describe('k8s rules at validate', () => {
  it('accepts a plain environment', async () => {
    expect(
      await problems(
        'ok',
        header('{}') +
          `  - deployment_id: api
    deployer: kube
    revisions:
${revision('api-v1')}${traffic('api-v1')}`,
      ),
    ).toEqual([]);
  });

  it('refuses a revision id equal to a deployment id (one object name), at the revision id', async () => {
    const found = await problems(
      'collide',
      header('{}') +
        `  - deployment_id: api
    deployer: kube
    revisions:
${revision('api')}${revision('api-v2')}${traffic('api-v2')}`,
    );
    expect(found).toEqual([
      {
        line: 11,
        col: 22,
        message: expect.stringMatching(
          /revision "api" would get the Kubernetes name "prod-api", which deployment "api" already uses/,
        ),
      },
    ]);
  });

  it('refuses a user PORT (bp sets it), at the key', async () => {
    const found = await problems(
      'port',
      header('{}') +
        `  - deployment_id: api
    deployer: kube
    revisions:
${revision('api-v1', ', PORT: "9000"')}${traffic('api-v1')}`,
    );
    expect(found).toEqual([
      { line: 12, col: 75, message: expect.stringMatching(/sets PORT, which the k8s deployer sets itself/) },
    ]);
  });

  it('refuses autoscaling in replicas mode, pointing at gateway-api', async () => {
    const found = await problems(
      'hpa',
      header('{ traffic: replicas }') +
        `  - deployment_id: api
    deployer: kube
    revisions:
      - revision_id: api-v1
        artifact: { image: "registry.example/app:1" }
        resources: { replicas: 2, max_replicas: 6 }
${traffic('api-v1')}`,
    );
    expect(found).toEqual([
      {
        line: 13,
        col: 49,
        message: expect.stringMatching(
          /declares max_replicas, but deployer "kube" uses traffic: replicas.*use traffic: gateway-api/,
        ),
      },
    ]);
  });

  it('refuses two deployments matching one hostname and path on a Gateway; routes tell them apart', async () => {
    const two = (config: string) =>
      header(config) +
      `  - deployment_id: web
    deployer: kube
    revisions:
${revision('web-v1')}${traffic('web-v1')}  - deployment_id: checkout
    deployer: kube
    revisions:
${revision('checkout-v1')}${traffic('checkout-v1')}`;
    const clash = await problems(
      'gw-clash',
      two('{ traffic: gateway-api, gateway: { name: public }, hostnames: [shop.example.com] }'),
    );
    expect(clash).toEqual([
      {
        line: 6,
        col: 24,
        message: expect.stringMatching(
          /deployments "web" and "checkout" both match shop\.example\.com path \/ on deployer "kube"/,
        ),
      },
    ]);
    const apart = await problems(
      'gw-apart',
      two('{ traffic: gateway-api, hostnames: [shop.example.com], routes: { checkout: { path_prefix: /checkout } } }'),
    );
    expect(apart).toEqual([]);
    const wildcard = await problems(
      'gw-wild',
      two(
        '{ traffic: gateway-api, routes: { web: { hostnames: ["*.example.com"] }, checkout: { hostnames: [pay.example.com] } } }',
      ),
    );
    expect(wildcard).toHaveLength(1);
    const unknown = await problems(
      'gw-unknown',
      two('{ traffic: gateway-api, routes: { web: { path_prefix: /w }, cart: { path_prefix: /c } } }'),
    );
    expect(unknown).toEqual([
      { line: 6, col: 73, message: 'routes names deployment "cart", which does not use deployer "kube"' },
    ]);
  });
});
