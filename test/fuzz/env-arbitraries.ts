/**
 * fast-check generators of env files an operator (or an attacker) could hand bp: mostly
 * well-formed environments, then damaged as text. Wrong types, hostile ids, unicode, huge
 * values, deep nesting, anchors and aliases, duplicated keys, truncation.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';

/** The env file run count: `BP_FUZZ_RUNS` (npm run test:fuzz sets 10000), small in CI. */
export const FUZZ_RUNS = Math.max(1, Number(process.env.BP_FUZZ_RUNS ?? 200));

const HOSTILE_IDS = [
  '..',
  '../etc',
  'a/b',
  '/abs',
  'a\\b',
  '$(touch x)',
  '`id`',
  'a;b',
  'a|b',
  'a b',
  '-rf',
  '.hidden',
  '',
  'toString',
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'a\u0000b',
  'ä',
  'x'.repeat(64),
  'web\n',
  'CON',
];

const id = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_IDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
);

const hugeString = fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n));

/** Anything JSON can hold, for replacing a field with the wrong type. */
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(-1, 0, 1.5, 1e308, 10001, true, null, '', '${env:}', '${env:SECRET', [], {}),
);

const artifact = fc.oneof(
  fc.record(
    {
      command: fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      env: fc.dictionary(
        fc.stringMatching(/^[A-Z_]{1,8}$/),
        fc.oneof(fc.string({ maxLength: 10 }), fc.constant('${env:SECRET}')),
        { maxKeys: 3 },
      ),
    },
    { requiredKeys: ['command'] },
  ),
  fc.record({ image: fc.string({ maxLength: 20 }) }),
  fc.record({ binary: fc.string({ maxLength: 20 }), command: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) }),
);

const revision = fc.record(
  {
    revision_id: id,
    artifact,
    resources: fc.record(
      {
        cpu: fc.double({ min: 0, max: 64, noNaN: true }),
        memory_mb: fc.integer({ min: 0, max: 1 << 20 }),
        replicas: fc.integer({ min: 0, max: 20 }),
        gpu: fc.integer({ min: 0, max: 4 }),
      },
      { requiredKeys: [] },
    ),
    health: fc.record(
      { http_path: fc.constantFrom('/healthz', 'healthz', '/a b'), timeout_seconds: fc.integer({ min: -1, max: 600 }) },
      { requiredKeys: [] },
    ),
    drain_seconds: fc.integer({ min: -5, max: 3600 }),
    ttl: fc.constantFrom('7d', '30s', '1h', '0s', 'forever', '10x'),
    state: fc.constantFrom('ready', 'inactive', 'archived', 'warming', 'bogus'),
  },
  { requiredKeys: ['revision_id', 'artifact'] },
);

const deployment = fc.record(
  {
    deployment_id: id,
    deployer: fc.constantFrom('local', 'other', 'toString'),
    listen: fc.constantFrom('127.0.0.1:8080', '127.0.0.1:8081', '[::1]:80', '0.0.0.0:99999', 'nope', ':8080'),
    revisions: fc.array(revision, { maxLength: 4 }),
    traffic: fc.array(
      fc.record({
        revision_id: id,
        weight_bps: fc.oneof(fc.integer({ min: -10, max: 10010 }), fc.constantFrom(10000, 5000, 0)),
      }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ['deployment_id', 'deployer', 'revisions'] },
);

const environment = fc.record(
  {
    schema: fc.constantFrom('bp.environment/v1', 'bp.environment/v1', 'bp.environment/v2'),
    environment_id: id,
    deployers: fc.dictionary(
      fc.constantFrom('local', 'other', 'constructor', 'a/b'),
      fc.record(
        {
          type: fc.constantFrom('local-process', './nope.mjs', '../../etc/passwd', 'no-such-type'),
          config: fc.constant({}),
        },
        { requiredKeys: ['type'] },
      ),
      { maxKeys: 2 },
    ),
    deployments: fc.array(deployment, { maxLength: 3 }),
    notifications: fc.array(
      fc.record({
        url: fc.constantFrom('http://127.0.0.1:9/x', 'ftp://x', 'nope'),
        events: fc.constant(['apply_finished']),
        secret: fc.constant('${env:HOOK_SECRET}'),
      }),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: ['schema', 'environment_id', 'deployers', 'deployments'] },
);

/** Environments that should pass: valid ids, declared deployers, one ready revision at 100%. */
const validId = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const coherentEnvironment = fc
  .tuple(
    validId,
    fc.uniqueArray(
      fc.tuple(
        validId,
        fc.uniqueArray(validId, { minLength: 1, maxLength: 3 }),
        fc.option(fc.integer({ min: 1024, max: 65535 })),
      ),
      { selector: (d) => d[0], maxLength: 4 },
    ),
    fc.array(
      fc.tuple(
        fc.string({ unit: 'grapheme', maxLength: 16 }),
        fc.constantFrom('hello', '${env:SECRET}', 'a b "c"', 'ü∂ 😀'),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([envId, deployments, vars]) => {
    const used = new Set<string>();
    const out = deployments.map(([d, revs, port]) => {
      const ids = revs.map((r) => `${d}-${r}`).filter((r) => !used.has(r) && used.add(r));
      return {
        deployment_id: d,
        deployer: 'local',
        ...(port !== null ? { listen: `127.0.0.1:${port}` } : {}),
        revisions: ids.map((r, i) => ({
          revision_id: r,
          artifact: {
            command: ['node', 'server.js'],
            env: Object.fromEntries(vars.map(([k, v], j) => [`V${j}`, `${k}${v}`])),
          },
          state: i === 0 ? 'ready' : 'inactive',
        })),
        traffic: ids.length > 0 ? [{ revision_id: ids[0], weight_bps: 10000 }] : [],
      };
    });
    const ports = out.map((d) => d.listen).filter(Boolean);
    if (new Set(ports).size !== ports.length) out.forEach((d) => delete d.listen);
    return {
      schema: 'bp.environment/v1',
      environment_id: envId,
      deployers: { local: { type: 'local-process', config: {} } },
      deployments: out,
    };
  });

/** Replaces the value at a random path with a value of a random (usually wrong) type. */
function withWrongType(value: unknown, pick: number, replacement: unknown): unknown {
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, path: Array<string | number>): void => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  const path = paths[pick % paths.length];
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const seg of path.slice(0, -1)) at = at[seg] as Record<string | number, unknown>;
  at[path[path.length - 1]] = replacement;
  return copy;
}

type TextMutation = (text: string) => string;

const lineOf = (text: string, n: number): { lines: string[]; i: number } => {
  const lines = text.split('\n');
  return { lines, i: n % Math.max(1, lines.length) };
};

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.nat().map((n) => (t: string) => {
      const { lines, i } = lineOf(t, n);
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }),
  },
  fc.nat().map((n) => (t: string) => {
    const { lines, i } = lineOf(t, n);
    lines.splice(i, 0, lines[i]);
    return lines.join('\n');
  }), // duplicated key
  fc.nat().map((n) => (t: string) => {
    const { lines, i } = lineOf(t, n);
    lines.splice(i, 1);
    return lines.join('\n');
  }),
  fc.tuple(fc.nat(), fc.string({ unit: 'grapheme', maxLength: 20 })).map(
    ([n, s]) =>
      (t: string) =>
        t.slice(0, n % (t.length + 1)) + s + t.slice(n % (t.length + 1)),
  ),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 8 })).map(
    ([n, s]) =>
      (t: string) =>
        t.slice(0, n % (t.length + 1)) + s + t.slice(n % (t.length + 1)),
  ),
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))), // truncated
  fc.constant((t: string) => t.replace(/^( +)/gm, (m) => '\t'.repeat(Math.ceil(m.length / 2)))),
  fc
    .integer({ min: 10, max: 2000 })
    .map((depth) => (t: string) => `${t}\nnested: ${'['.repeat(depth)}${']'.repeat(depth)}\n`),
  fc
    .integer({ min: 10, max: 1500 })
    .map((depth) => (t: string) => `${t}\nnested: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`),
  fc
    .integer({ min: 2, max: 400 })
    .map(
      (depth) => (t: string) =>
        `${t}\nnested:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} x\n`,
    ),
  fc.integer({ min: 2, max: 10 }).map((levels) => (t: string) => {
    const lines = [`${t}\nl0: &l0 [a, a, a, a, a, a, a, a, a]`];
    for (let i = 1; i < levels; i++)
      lines.push(
        `l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return lines.join('\n') + '\n';
  }), // alias bomb
  fc.nat().map((n) => (t: string) => {
    const { lines, i } = lineOf(t, n);
    return lines.map((l, j) => (j === i ? l.replace(/: (.+)$/, ': &anchor $1') : l)).join('\n') + '\nextra: *anchor\n';
  }),
  fc.constant((t: string) => t.replace(/weight_bps: \d+/, 'weight_bps: !!str 10000')),
  fc.constant((t: string) => `%YAML 1.2\n---\n${t}\n---\n${t}`),
  fc.constant((t: string) => t.replace(/\n/g, '\r\n')),
  fc.constant((t: string) => `\uFEFF${t}`),
  hugeString.map((s) => (t: string) => t.replace(/environment_id: .*/, `environment_id: ${s}`)),
  hugeString.map((s) => (t: string) => `${t}\nbig: ${s}\n`),
  hugeString.map((s) => (t: string) => `${s}: 1\n${t}`),
);

/** An env file as text: a generated environment, maybe retyped, serialized, maybe damaged. */
export const envFileText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(coherentEnvironment, environment),
    fc.option(fc.tuple(fc.nat(), wrongValue), { freq: 4 }),
    fc.constantFrom('block', 'flow', 'json'),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant([]) },
      { weight: 3, arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 3 }) },
    ),
  )
  .map(([env, retype, style, mutations]) => {
    const value = retype ? withWrongType(env, retype[0], retype[1]) : env;
    let text =
      style === 'json'
        ? JSON.stringify(value, null, 1)
        : stringify(value, { collectionStyle: style === 'flow' ? 'flow' : 'block', lineWidth: 0 });
    for (const m of mutations) text = m(text);
    return text;
  });
