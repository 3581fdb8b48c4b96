import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames, renderHuman } from '../../src/conformance/index.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { fakeConfig, startFake } from '../deployers/gcp-compute-fixtures.js';
import { bench, namesWith } from './helpers.js';

let fake: FakeGce;
beforeAll(async () => {
  fake = await startFake({ opDelayMs: 10, timings: { bootMs: 60, healthyAfterMs: 100 } });
});
afterAll(async () => {
  await fake.close();
});

describe('the built-in gcp-compute deployer', () => {
  it('passes the conformance bench through the real SDK against the fake Compute Engine', async () => {
    const report = await bench('gcp-compute', {
      config: { ...fakeConfig(fake) },
      fixture: { artifact: { image: 'bp-fixture:1', env: {} } },
    });
    expect(namesWith(report, 'fail'), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(namesWith(report, 'skip')).toEqual(['runtime-config']);
    // Every call went through the real SDK to the fake, authenticated with a token it issued.
    expect(fake.journal.filter((j) => j.status === 401)).toEqual([]);
    expect(fake.journal.some((j) => j.path.endsWith('/wait'))).toBe(true);
  }, 300_000);
});
