/**
 * The fast path (js-yaml) and the slow path (`yaml`) must reach the same verdict: the same
 * value for valid files, the same positioned problems for invalid ones.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { InputProblem } from '../../src/model/errors.js';
import { analyzeSlow, checkEnvironmentValue, positionProblem, sortProblems } from '../../src/spec/analyze.js';
import { parseFast } from '../../src/spec/fast-yaml.js';
import { normalizeEnvironment } from '../../src/spec/normalize.js';
import { YamlSource } from '../../src/spec/yaml-source.js';
import { fixture, fixtureNames } from './helpers.js';

interface Verdict {
  value?: unknown;
  problems: InputProblem[];
}

function viaFastPath(text: string): Verdict | undefined {
  const parsed = parseFast(text);
  if (!parsed.ok) return undefined;
  const found = checkEnvironmentValue(parsed.value);
  if (found.length === 0) return { value: normalizeEnvironment(parsed.value), problems: [] };
  // Positions come from the source map either way; what must agree is what was found.
  const source = new YamlSource(text);
  return { problems: sortProblems(found.map((p) => positionProblem(p, source, 'env.yaml'))) };
}

function viaSlowPath(text: string): Verdict {
  const result = analyzeSlow(text, 'env.yaml');
  return result.ok ? { value: normalizeEnvironment(result.value), problems: [] } : { problems: result.problems };
}

describe('fast and slow parsers agree', () => {
  const fastFixtures = [
    ...fixtureNames('valid').map((n) => ['valid', n] as const),
    ...fixtureNames('invalid').map((n) => ['invalid', n] as const),
  ].filter(([kind, name]) => parseFast(fixture(kind, name)).ok);

  it('covers most fixtures on the fast path', () => {
    expect(fastFixtures.length).toBeGreaterThanOrEqual(20);
  });

  for (const [kind, name] of fastFixtures) {
    it(`on ${kind}/${name}`, () => {
      const text = fixture(kind, name);
      const fast = viaFastPath(text)!;
      const slow = viaSlowPath(text);
      expect(fast).toEqual(slow);
      expect(fast.problems.length > 0).toBe(kind === 'invalid');
    });
  }

  it('on generated environments, valid and broken', () => {
    fc.assert(
      fc.property(arbitraryEnvironment(), (value) => {
        const text = stringify(value, { aliasDuplicateObjects: false });
        const fast = viaFastPath(text);
        fc.pre(fast !== undefined);
        expect(fast).toEqual(viaSlowPath(text));
      }),
      { numRuns: Number(process.env.BP_FUZZ_RUNS ?? 150) },
    );
  });
});

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'ready',
    'inactive',
    'web-v1',
    '${env:X}',
    '${bad}',
    '7d',
    '/healthz',
    '127.0.0.1:80',
    '0x1F',
    '1_000',
    'yes',
    '~',
    '',
  ),
  fc.integer({ min: -5, max: 20000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** A valid two-revision environment, then a few random edits: wrong scalars, missing and unknown keys. */
function arbitraryEnvironment(): fc.Arbitrary<unknown> {
  const base = () => ({
    schema: 'bp.environment/v1',
    environment_id: 'demo',
    deployers: { local: { type: 'local-process', config: { region: 'eu', token: '${env:TOKEN}' } } },
    deployments: [
      {
        deployment_id: 'web',
        deployer: 'local',
        listen: '127.0.0.1:8080',
        revisions: [
          { revision_id: 'web-v1', artifact: { command: ['node', 'server.js'], env: { A: 'b' } }, ttl: '1h' },
          {
            revision_id: 'web-v2',
            artifact: { image: 'web:2' },
            resources: { cpu: 0.5, replicas: 2 },
            state: 'inactive',
          },
        ],
        traffic: [
          { revision_id: 'web-v1', weight_bps: 10000 },
          { revision_id: 'web-v2', weight_bps: 0 },
        ],
      },
    ],
  });
  const edit = fc.record({
    path: fc.constantFrom(
      ['environment_id'],
      ['deployers', 'local', 'type'],
      ['deployers', 'local', 'config', 'token'],
      ['deployments', 0, 'deployment_id'],
      ['deployments', 0, 'deployer'],
      ['deployments', 0, 'listen'],
      ['deployments', 0, 'revisions', 0, 'revision_id'],
      ['deployments', 0, 'revisions', 0, 'artifact', 'command', 0],
      ['deployments', 0, 'revisions', 0, 'artifact', 'env', 'A'],
      ['deployments', 0, 'revisions', 0, 'ttl'],
      ['deployments', 0, 'revisions', 1, 'state'],
      ['deployments', 0, 'revisions', 1, 'resources', 'cpu'],
      ['deployments', 0, 'revisions', 1, 'artifact', 'binary'],
      ['deployments', 0, 'revisions', 1, 'unknown_key'],
      ['deployments', 0, 'traffic', 0, 'weight_bps'],
      ['deployments', 0, 'traffic', 1, 'revision_id'],
      ['notifications'],
    ),
    value: fc.oneof(
      scalar,
      fc.constant(undefined),
      fc.array(scalar, { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }),
    ),
  });
  return fc.array(edit, { maxLength: 3 }).map((edits) => {
    const env = base();
    for (const { path, value } of edits) setPath(env, path, value);
    return env;
  });
}

function setPath(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (next === null || typeof next !== 'object') return;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}
