/** Hostile and huge inputs: alias bombs are refused unexpanded; big clean files stay on the fast path. */
import { describe, expect, it } from 'vitest';
import { parseEnvironment, MAX_ALIAS_COUNT } from '../../src/spec/index.js';
import { needsSlowParser, parseFast } from '../../src/spec/fast-yaml.js';
import { slowParseCount } from '../../src/spec/yaml-source.js';
import { fixture, MINIMAL, problemLines } from './helpers.js';

/** Nine levels of nine-fold aliases: 9^9 (387 million) strings if expanded. */
function billionLaughs(levels = 9): string {
  const lines = [
    'schema: bp.environment/v1',
    'environment_id: demo',
    'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ];
  for (let i = 1; i < levels; i++)
    lines.push(
      `lol${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    );
  return lines.join('\n') + '\n';
}

describe('alias bombs', () => {
  it('rejects a billion-laughs file in well under a second, with a clear message at the first alias', () => {
    const started = performance.now();
    const lines = problemLines(billionLaughs());
    const elapsed = performance.now() - started;
    expect(lines).toEqual([
      `4:12: YAML aliases expand more than ${MAX_ALIAS_COUNT} times (an alias bomb?): the file is rejected, not expanded`,
    ]);
    expect(elapsed).toBeLessThan(1000);
  });

  it('never lets the fast parser see a file with aliases', () => {
    expect(needsSlowParser(billionLaughs())).toBe(true);
    expect(parseFast(billionLaughs()).ok).toBe(false);
    expect(parseFast(fixture('invalid', 'alias-bomb.yaml')).ok).toBe(false);
  });

  it('accepts modest anchor use, expanding it like the plain file', () => {
    const withAnchors = MINIMAL.replace(
      '        artifact: { command: [node, server.js] }',
      '        artifact: &art { command: [node, server.js] }',
    ).replace(
      '    traffic:',
      ['      - revision_id: web-v2', '        artifact: *art', '        state: inactive', '    traffic:'].join('\n'),
    );
    const plain = withAnchors
      .replace('&art ', '')
      .replace('artifact: *art', 'artifact: { command: [node, server.js] }');
    const before = slowParseCount();
    const anchored = parseEnvironment(withAnchors, 'env.yaml').env;
    expect(slowParseCount()).toBe(before + 1);
    expect(anchored).toStrictEqual(parseEnvironment(plain, 'env.yaml').env);
    expect(anchored.deployments[0].revisions[1].artifact).toStrictEqual({ command: ['node', 'server.js'], env: {} });
  });

  it(`rejects more than ${MAX_ALIAS_COUNT} aliases even of a scalar`, () => {
    const many = Array.from({ length: MAX_ALIAS_COUNT + 1 }, (_, i) => `  k${i}: *v`).join('\n');
    const text =
      MINIMAL.replace(
        'local: { type: local-process }',
        `local: { type: local-process, config: { v: &v x, more: {} } }`,
      ) + `extra:\n${many}\n`;
    expect(problemLines(text)[0]).toMatch(/^14:7: YAML aliases expand more than 100 times/);
  });
});

describe('needsSlowParser', () => {
  it.each([
    ['a: *x', true],
    ['a: [*x]', true],
    ['"a":*x', true],
    ['a: &x 1', true],
    ['a: !!str 1', true],
    ['%YAML 1.1\n---\na: 1', true],
    ['\uFEFF*x: 1', true],
    ['a: "*x"', false],
    ['a: x*y', false],
    ['events: ["*"]', false],
    ['command: [sh, -c, "a&&b"]', false],
    // A superset on purpose: this costs only the slow parser's time.
    ['command: [sh, -c, "a && b"]', true],
  ])('%j -> %s', (text, expected) => {
    expect(needsSlowParser(text)).toBe(expected);
  });
});

describe('large environments', () => {
  function generate(revisions: number): string {
    const lines = [
      'schema: bp.environment/v1',
      'environment_id: big',
      'deployers:',
      '  local: { type: local-process }',
      'deployments:',
    ];
    const perDeployment = 100;
    for (let d = 0; d < revisions / perDeployment; d++) {
      lines.push(
        `  - deployment_id: d${d}`,
        '    deployer: local',
        `    listen: 127.0.0.1:${10000 + d}`,
        '    revisions:',
      );
      for (let r = 0; r < perDeployment; r++) {
        lines.push(
          `      - revision_id: d${d}-r${r}`,
          '        artifact:',
          '          command: [node, server.js, --port, "8080"]',
          `          env: { GREETING: "hello ${r}", TOKEN: "\${env:TOKEN}" }`,
          '        resources: { cpu: 0.5, memory_mb: 256, replicas: 2, gpu: 0 }',
          '        ttl: 7d',
          `        state: ${r === 0 ? 'ready' : 'inactive'}`,
        );
      }
      lines.push('    traffic:', `      - { revision_id: d${d}-r0, weight_bps: 10000 }`);
    }
    return lines.join('\n') + '\n';
  }

  it('parses 5000 revisions on the fast path without ever running the slow parser', () => {
    const text = generate(5000);
    const before = slowParseCount();
    const parsed = parseEnvironment(text, 'big.yaml');
    expect(slowParseCount()).toBe(before);
    expect(parsed.env.deployments).toHaveLength(50);
    expect(parsed.env.deployments.reduce((n, d) => n + d.revisions.length, 0)).toBe(5000);
    expect(parsed.env.deployments[49].revisions[99].revision_id).toBe('d49-r99');
  });

  it('falls back to the slow parser for positions when a large file has a problem', () => {
    const text = generate(1000).replace('revision_id: d7-r3\n', 'revision_id: d7-r3\n        colour: red\n');
    const before = slowParseCount();
    const lines = problemLines(text, 'big.yaml');
    expect(slowParseCount()).toBe(before + 1);
    expect(lines).toEqual(['4974:9: unknown key "colour" in revision "d7-r3"']);
  });
});
