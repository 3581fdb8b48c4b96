import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import eksPlugin from '../../src/deployers/aws-eks.js';
import { eksToken, stsHostFor, TOKEN_PREFIX } from '../../src/deployers/aws-eks/token.js';
import { ENVIRONMENT_SCHEMA } from '../../src/model/environment.js';
import { startFakeEks, type FakeEks } from '../fakes/eks/server.js';
import { verifyEksToken } from '../fakes/eks/token-check.js';

const REGION = 'us-east-2';
const CREDS = { accessKeyId: 'AKIDEKSUNITEXAMPLE', secretAccessKey: 'unit/secret/EXAMPLE' };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let eks: FakeEks;
const saved = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey });
  eks = await startFakeEks(REGION, [
    { name: 'creating', endpoint: 'https://127.0.0.1:1', caData: '', status: 'CREATING' },
  ]);
});
afterAll(async () => {
  process.env = saved;
  await eks?.close();
});

const env = {
  schema: ENVIRONMENT_SCHEMA,
  environment_id: 'e',
  deployers: {},
  notifications: [],
  base_dir: '/',
  deployments: [
    {
      deployment_id: 'web',
      deployer: 'x',
      listen: null,
      traffic: [],
      revisions: [
        {
          revision_id: 'v1',
          artifact: { image: 'app:1', env: {} },
          resources: { cpu: 0.1, memory_mb: 64, replicas: 1, gpu: 0 },
          health: { http_path: '/healthz', timeout_seconds: 5 },
          drain_seconds: 0,
          ttl: null,
          state: 'ready' as const,
          lifecycle: 'inactive' as const,
          outputs: {},
          endpoint: null,
        },
      ],
    },
  ],
};

describe('aws-eks', () => {
  it('makes a k8s-aws-v1 token that an EKS authenticator accepts for this cluster only', async () => {
    const token = await eksToken({ clusterName: 'prod', region: REGION, credentials: CREDS });
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).not.toMatch(/=$/);
    const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString());
    expect(url.host).toBe(`sts.${REGION}.amazonaws.com`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(await verifyEksToken(`Bearer ${token}`, { clusterName: 'prod', region: REGION, ...CREDS })).toBe(true);
    expect(await verifyEksToken(`Bearer ${token}`, { clusterName: 'other', region: REGION, ...CREDS })).toBe(false);
  });

  it('presigns the token for the STS host of the region, including the China regions', async () => {
    const hostOf = async (region: string) => {
      const token = await eksToken({ clusterName: 'prod', region, credentials: CREDS });
      const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString());
      return { host: url.host, scope: url.searchParams.get('X-Amz-Credential') };
    };
    expect(await hostOf('cn-north-1')).toMatchObject({ host: 'sts.cn-north-1.amazonaws.com.cn' });
    expect(await hostOf('cn-northwest-1')).toMatchObject({ host: 'sts.cn-northwest-1.amazonaws.com.cn' });
    expect((await hostOf('cn-north-1')).scope).toContain('/cn-north-1/sts/aws4_request');
    expect(await hostOf('eu-west-1')).toMatchObject({ host: 'sts.eu-west-1.amazonaws.com' });
    expect(stsHostFor('us-iso-east-1')).toBe('sts.us-iso-east-1.c2s.ic.gov');
    expect(stsHostFor('us-isob-east-1')).toBe('sts.us-isob-east-1.sc2s.sgov.gov');
    const token = await eksToken({ clusterName: 'prod', region: 'cn-north-1', credentials: CREDS });
    expect(await verifyEksToken(`Bearer ${token}`, { clusterName: 'prod', region: 'cn-north-1', ...CREDS })).toBe(true);
  });

  it('reports an unknown cluster as a non-retryable provider error, and a creating one as retryable', async () => {
    const missing = await eksPlugin.create(
      { cluster_name: 'nope', region: REGION, endpoint_url: eks.url },
      { logger: quiet, stateDir: '/tmp' },
    );
    await expect(missing.observe(env, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(
        /EKS cluster "nope" does not exist in us-east-2: No cluster found for name: nope\./,
      ),
    });
    const creating = await eksPlugin.create(
      { cluster_name: 'creating', region: REGION, endpoint_url: eks.url },
      { logger: quiet, stateDir: '/tmp' },
    );
    await expect(creating.observe(env, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'Provider',
      retryable: true,
      message: expect.stringMatching(/is CREATING/),
    });
    expect(eks.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/clusters/nope', '/clusters/creating']));
  });
});
