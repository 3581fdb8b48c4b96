import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames, renderHuman, runConformance } from '../../src/conformance/index.js';
import { startFakeEks, type FakeEks } from '../fakes/eks/server.js';
import { verifyEksToken } from '../fakes/eks/token-check.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';

const REGION = 'eu-west-3';
const CREDS = { accessKeyId: 'AKIDBPBENCHEXAMPLE', secretAccessKey: 'bench/secret/key/EXAMPLE' };
let kube: FakeKube;
let eks: FakeEks;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  kube = await startFakeKubeApiServer({
    readyDelayMs: 40,
    // The cluster only accepts tokens presigned for it with the test's credentials.
    authenticate: (h) => verifyEksToken(h, { clusterName: 'bench', region: REGION, ...CREDS }),
  });
  eks = await startFakeEks(REGION, [
    {
      name: 'bench',
      endpoint: kube.url,
      caData: Buffer.from('-----BEGIN CERTIFICATE-----\nnot used over http\n-----END CERTIFICATE-----\n').toString(
        'base64',
      ),
    },
  ]);
  dir = mkdtempSync(join(tmpdir(), 'bp-eks-bench-'));
});
afterAll(async () => {
  process.env = saved;
  await kube?.close();
  await eks?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the aws-eks deployer against fake EKS and kube-apiserver', () => {
  it('passes the conformance bench, authenticating with an EKS token', async () => {
    const report = await runConformance({
      type: 'aws-eks',
      baseDir: process.cwd(),
      config: {
        cluster_name: 'bench',
        region: REGION,
        endpoint_url: eks.url,
        insecure_skip_tls_verify: true,
        traffic: 'gateway-api',
        gateway: { name: 'public' },
        poll_interval_ms: 25,
      },
      stateDir: dir,
      fixture: { artifact: { image: 'bp-fixture:1', env: {} } },
    });
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
    expect(failed, renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    // DescribeCluster was SigV4-signed with the environment's credentials, for the right region.
    expect(eks.requests.length).toBeGreaterThan(0);
    expect(
      eks.requests.every(
        (r) => r.accessKeyId === CREDS.accessKeyId && r.region === REGION && r.path === '/clusters/bench',
      ),
    ).toBe(true);
    expect(kube.journal.entries.every((e) => e.status !== 401)).toBe(true);
  });
});
