/**
 * `azure-vm` through the conformance bench: in process with a bearer token from the
 * environment, and through the real CLI (bin/bp) with DefaultAzureCredential reading
 * AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST and trusting
 * the fake's certificate through NODE_EXTRA_CA_CERTS, as a CI job against Azure Stack would.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames, renderHuman } from '../../src/conformance/index.js';
import {
  FAKE_CLIENT,
  FAKE_LOCATION,
  FAKE_RESOURCE_GROUP,
  FAKE_SUBSCRIPTION,
  FAKE_TENANT,
  type FakeArm,
} from '../fakes/azure/server.js';
import { fakeConfig, startFake } from '../deployers/azure-vm-fixtures.js';
import { bp, tempDir } from '../helpers/cli.js';
import { bench, namesWith } from './helpers.js';

let fake: FakeArm;
beforeAll(async () => {
  fake = await startFake({ opDelayMs: 10, timings: { bootMs: 40, healthyAfterMs: 60 } });
});
afterAll(async () => {
  await fake.close();
});

const bpResources = () => fake.store.all().filter((r) => r.tags?.['bp-managed-by'] === 'bp');

describe('the built-in azure-vm deployer', () => {
  it('passes the conformance bench through the real Azure SDKs against the fake Resource Manager', async () => {
    const report = await bench('azure-vm', {
      config: { ...fakeConfig(fake) },
      fixture: { artifact: { image: 'bp-fixture:1', env: {} } },
    });
    expect(namesWith(report, 'fail'), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(namesWith(report, 'skip')).toEqual(['runtime-config']);
    expect(bpResources()).toEqual([]);
    // Every call was authenticated, and long-running operations were followed to the end.
    expect(fake.journal.filter((j) => j.status === 401)).toEqual([]);
    expect(fake.journal.some((j) => /\/operations\//.test(j.path))).toBe(true);
  }, 300_000);

  it('passes `bp conformance azure-vm` through the CLI with DefaultAzureCredential from the environment', async () => {
    const { dir, cleanup } = tempDir('bp-azure-bench-');
    try {
      const config = join(dir, 'azure.yaml');
      writeFileSync(
        config,
        [
          `subscription_id: ${FAKE_SUBSCRIPTION}`,
          `resource_group: ${FAKE_RESOURCE_GROUP}`,
          `location: ${FAKE_LOCATION}`,
          `subnet_id: ${fake.subnetId}`,
          `endpoint: ${fake.endpoint}`,
          'token_scope: https://management.azure.com/.default',
          'disable_instance_discovery: true',
          'boot_grace_seconds: 0',
          'poll_interval_ms: 50',
          'lro_poll_interval_ms: 20',
          'retry_delay_ms: 50',
          '',
        ].join('\n'),
      );
      const before = fake.journal.length;
      const r = await bp(['conformance', 'azure-vm', '--config', config, '--fixture-image', 'bp-fixture:1'], {
        cwd: dir,
        env: {
          NODE_EXTRA_CA_CERTS: fake.caFile,
          AZURE_TENANT_ID: FAKE_TENANT,
          AZURE_CLIENT_ID: FAKE_CLIENT.clientId,
          AZURE_CLIENT_SECRET: FAKE_CLIENT.clientSecret,
          AZURE_AUTHORITY_HOST: fake.endpoint,
          BP_STATE_DIR: join(dir, 'state'),
        },
      });
      expect(r.stdout, r.stderr).toMatch(/\d+ passed, 0 failed/);
      expect(r.code).toBe(0);
      const calls = fake.journal.slice(before);
      expect(calls.some((j) => j.path === `/${FAKE_TENANT}/oauth2/v2.0/token` && j.status === 200)).toBe(true);
      expect(calls.filter((j) => j.status === 401)).toEqual([]);
      expect(bpResources()).toEqual([]);
    } finally {
      cleanup();
    }
  }, 300_000);
});
