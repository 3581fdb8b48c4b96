/**
 * The plan shows a provider's rounding ahead of time: a deployer whose weights resolve to
 * 10 bps (`weightGranularityBps`, gcp-compute, azure-vm and aws-ec2) turns 9995/5 into
 * 9990/10; the split step carries `enforced`, the text says so, and once recorded state holds
 * the enforced split the plan sees no change.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import awsEc2 from '../../src/deployers/aws-ec2.js';
import azureVm from '../../src/deployers/azure-vm.js';
import gcpCompute from '../../src/deployers/gcp-compute.js';
import { toElbWeights } from '../../src/deployers/aws-ec2/weights.js';
import { enforcedSplit as azureEnforced } from '../../src/deployers/azure-vm/weights.js';
import { enforcedSplit as gcpEnforced } from '../../src/deployers/gcp-compute/weights.js';
import { renderPlan } from '../../src/cli/views/plan-view.js';
import type { Style } from '../../src/cli/views/style.js';
import { enforcedAtGranularity } from '../../src/model/weights.js';
import { plan } from '../../src/plan/index.js';
import { bp, engineEnv, ENGINE_DEPLOYER, ROOT, tempDir, writeFile } from '../helpers/cli.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';

const plain: Style = { color: false, green: (s) => s, yellow: (s) => s, red: (s) => s, bold: (s) => s, dim: (s) => s };

const desired = env([dep('web', [rev('v1'), rev('v2')], split(['v1', 9995], ['v2', 5]))]);
const prior = recorded(env([dep('web', [rev('v1'), rev('v2')], split(['v1', 10000], ['v2', 0]))]), {
  lifecycles: { v1: 'ready', v2: 'ready' },
  splits: { web: split(['v1', 10000], ['v2', 0]) },
});

describe('plan: enforced split', () => {
  it('a per-mille deployer shows 9995/5 will be enforced as 9990/10, in JSON and text', () => {
    const p = plan({ desired, recorded: prior, now: NOW, weightGranularityBps: { local: 10 } });
    const step = p.steps.find((s) => s.verb === 'apply_traffic_split')!;
    expect(step.split).toEqual({
      before: split(['v1', 10000], ['v2', 0]),
      after: split(['v1', 9995], ['v2', 5]),
      enforced: split(['v1', 9990], ['v2', 10]),
      granularity_bps: 10,
    });
    expect(renderPlan(p, plain)).toContain(
      'rounded: v1/v2 9995/5 will be enforced as 9990/10 (the provider weighs in steps of 10 bps)',
    );
  });

  it('a deployer taking basis points, or a split it can express, shows no rounding', () => {
    const exact = plan({ desired, recorded: prior, now: NOW });
    expect(exact.steps.find((s) => s.split)!.split!.enforced).toBeUndefined();
    const tenths = env([dep('web', [rev('v1'), rev('v2')], split(['v1', 9990], ['v2', 10]))]);
    const p = plan({ desired: tenths, recorded: prior, now: NOW, weightGranularityBps: { local: 10 } });
    expect(p.steps.find((s) => s.split)!.split!.enforced).toBeUndefined();
  });

  it('once the enforced split is recorded, the same file plans no split (no perpetual diff)', () => {
    const after = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 9990], ['v2', 10]) },
    });
    const p = plan({ desired, recorded: after, now: NOW, weightGranularityBps: { local: 10 } });
    expect(p.steps).toEqual([]);
    // Without the capability the recorded 9990/10 differs from the asked 9995/5 on every plan.
    expect(plan({ desired, recorded: after, now: NOW }).steps.map((s) => s.verb)).toEqual(['apply_traffic_split']);
  });

  it('the three clouds declare 10 bps and enforce exactly what the planner predicts', () => {
    for (const p of [awsEc2, gcpCompute, azureVm]) expect(p.weightGranularityBps, p.type).toBe(10);
    const cases = [
      [9995, 5],
      [3333, 3333, 3334],
      [1, 9999],
      [9997, 2, 1],
      [5000, 4995, 5],
      [1667, 1667, 1667, 1667, 1666, 1666],
    ];
    for (const bps of cases) {
      const entries = bps.map((weight_bps, i) => ({ revision_id: `r${i}`, weight_bps }));
      const predicted = enforcedAtGranularity(entries, 10);
      expect(toElbWeights(entries).enforced, `aws ${bps.join('/')}`).toEqual(predicted);
      expect(gcpEnforced(entries), `gcp ${bps.join('/')}`).toEqual(predicted);
      expect(azureEnforced(entries), `azure ${bps.join('/')}`).toEqual(predicted);
    }
  });
});

describe('bp plan with a per-mille deployer plugin', () => {
  const t = tempDir('bp-enforced-');
  afterAll(() => t.cleanup());

  it('reads the plugin capability and prints the rounding (text and --json)', async () => {
    const text = engineEnv({
      provider: join(t.dir, 'provider.json'),
      deployments: [
        {
          id: 'web',
          revisions: [{ id: 'v1' }, { id: 'v2' }],
          traffic: [
            ['v1', 9995],
            ['v2', 5],
          ],
        },
      ],
    }).replace(
      JSON.stringify(ENGINE_DEPLOYER),
      JSON.stringify(join(ROOT, 'test', 'fixtures', 'per-mille-deployer.mjs')),
    );
    writeFile(join(t.dir, 'env.yaml'), text);
    const human = await bp(['plan', 'env.yaml'], { cwd: t.dir });
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain('v1/v2 9995/5 will be enforced as 9990/10');
    const json = await bp(['plan', 'env.yaml', '--json'], { cwd: t.dir });
    const step = (JSON.parse(json.stdout) as { steps: Array<{ verb: string; split?: unknown }> }).steps.find(
      (s) => s.verb === 'apply_traffic_split',
    );
    expect(step?.split).toMatchObject({ enforced: split(['v1', 9990], ['v2', 10]), granularity_bps: 10 });
  });
});
