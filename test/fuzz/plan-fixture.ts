/** A real saved plan, made in-process the way `bp plan --out` makes one (for plan-file tests). */
import { withDigest } from '../../src/plan/saved-plan.js';
import { plan } from '../../src/plan/index.js';
import { parseEnvironment } from '../../src/spec/index.js';
import type { PlanFile } from '../../src/model/plan.js';
import { engineEnv } from '../helpers/cli.js';

export function savedPlanFixture(
  provider = '/tmp/bp-fuzz-provider.json',
  sourceFile = '/tmp/bp-fuzz/env.yaml',
): PlanFile {
  const text = engineEnv({
    provider,
    deployments: [
      {
        id: 'web',
        revisions: [{ id: 'web-v1' }, { id: 'web-v2', ttl: '1h' }],
        traffic: [
          ['web-v1', 9000],
          ['web-v2', 1000],
        ],
      },
      { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
    ],
  });
  const desired = parseEnvironment(text, sourceFile).env;
  return withDigest({
    format_version: 'bp.planfile/v1',
    created_at: '2026-01-01T00:00:00.000Z',
    source_file: sourceFile,
    desired,
    plan: plan({ desired, recorded: null, now: new Date('2026-01-01T00:00:00Z') }),
  });
}
