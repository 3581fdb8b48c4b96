/** The plan as an operator reviews it: what each step deploys and each change as old -> new. */
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/views/plan-view.js';
import type { Style } from '../../src/cli/views/style.js';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, rolloutProgress, split } from '../plan/builders.js';

const plain: Style = { color: false, green: (s) => s, yellow: (s) => s, red: (s) => s, bold: (s) => s, dim: (s) => s };

const v1 = rev('v1', {
  drain_seconds: 5,
  artifact: { command: ['node', 'app/server.mjs'], env: { GREETING: 'hello' } },
});
const v2 = rev('v2', {
  artifact: {
    image: 'registry.example/web:2.0',
    env: { GREETING: 'hi', API_TOKEN: '${env:API_TOKEN}', DB_PASSWORD: 'literal' },
  },
  resources: { cpu: 1, memory_mb: 512, replicas: 2, gpu: 0, max_replicas: 4 },
});
const v3 = rev('v3', { artifact: { command: ['node', 'app/typo.mjs'], env: {} } });

describe('plan rendering', () => {
  it('shows what stage steps deploy, update steps and replacements as old -> new', () => {
    const before = env([dep('web', [v1, v3], split(['v1', 10000], ['v3', 0]))]);
    const state = recorded(before, {
      lifecycles: { v1: 'ready', v3: 'failed' },
      splits: { web: split(['v1', 10000]) },
      revisions: { v3: { last_error: 'warm: exit 1' } },
    });
    const v1Changed = { ...v1, drain_seconds: 9, ttl: '7d' };
    const v3Fixed = { ...v3, artifact: { command: ['node', 'app/server.mjs'], env: {} } };
    const desired = env([dep('web', [v1Changed, v2, v3Fixed], split(['v1', 9000], ['v2', 1000], ['v3', 0]))]);
    const text = renderPlan(plan({ desired, recorded: state, now: NOW }), plain);
    expect(text).not.toContain('literal');
    expect(text).toMatchSnapshot();
  });

  it('a settings-only change is not "No changes."', () => {
    const before = env([dep('web', [v1], split(['v1', 10000]))]);
    const state = recorded(before, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const desired = env([dep('web', [{ ...v1, drain_seconds: 9 }], split(['v1', 10000]))]);
    expect(renderPlan(plan({ desired, recorded: state, now: NOW }), plain)).toBe(
      [
        'bp will perform the following actions on environment "demo":',
        '',
        '  # deployment web',
        '  ~ update  web/v1',
        '            drain_seconds: 5 -> 9',
        '',
        'Plan: 0 to stage, 0 to warm, 1 to update, 0 splits to apply, 0 to drain, 0 to archive.',
      ].join('\n'),
    );
  });

  it('a strategy change during a rollout says the rollout keeps its steps; the environment step comes first', () => {
    const steps = [{ weight_bps: 1000 }, { pause: {} }];
    const v2Ready = rev('v2');
    const before = env([
      dep('web', [v1, v2Ready], split(['v2', 10000]), { rollout: { steps, on_failure: 'rollback' } }),
    ]);
    const state = recorded(before, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 9000], ['v2', 1000]) },
    });
    state.deployments.web!.rollout = rolloutProgress(steps, { step: 1, status: 'paused' });
    const desired = structuredClone(before);
    desired.deployments[0]!.rollout = { steps, on_failure: 'pause' };
    desired.notifications = [{ url: 'https://hooks.example.com', events: ['*'] }];
    const text = renderPlan(plan({ desired, recorded: state, now: NOW }), plain);
    expect(text).toContain(
      [
        '  # environment',
        '  ~ update  environment',
        '            notifications[0]: (none) -> {"url":"https://hooks.example.com","events":["*"]}',
        '',
        '  # deployment web',
        '  ~ update  web',
        '            rollout.on_failure: "rollback" -> "pause"',
        '            note: the rollout of v2 in progress keeps the 2 steps it began with; the new strategy applies from the next rollout',
      ].join('\n'),
    );
  });
});
