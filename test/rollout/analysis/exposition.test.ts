import { describe, expect, it } from 'vitest';
import { parseExposition, seriesKey } from '../../../src/rollout/analysis/exposition.js';
import { RouterMetrics } from '../../../src/router/metrics.js';

describe('parseExposition', () => {
  it('reads samples with labels, escapes, special values and timestamps; skips comments', () => {
    const text = [
      '# HELP x_total A counter.',
      '# TYPE x_total counter',
      'x_total{a="1",b="q\\"uo\\\\te\\nnl"} 42',
      'y 3.5 1700000000000',
      '',
      'z{le="+Inf"} +Inf',
      'w NaN',
      'v{ a = "x" , } -Inf',
    ].join('\n');
    const s = parseExposition(text);
    expect(s.map((x) => [x.name, x.labels, x.value])).toEqual([
      ['x_total', { a: '1', b: 'q"uo\\te\nnl' }, 42],
      ['y', {}, 3.5],
      ['z', { le: '+Inf' }, Infinity],
      ['w', {}, NaN],
      ['v', { a: 'x' }, -Infinity],
    ]);
  });

  it('names the line of a malformed sample', () => {
    expect(() => parseExposition('ok 1\nbad{a=1} 2')).toThrow(/line 2: expected ="..." after label a/);
    expect(() => parseExposition('x{a="1"} one')).toThrow(/line 1: "one" is not a sample value/);
    expect(() => parseExposition('x{a="1} 2')).toThrow(/unterminated value of label a/);
  });

  it('keys series by name and sorted labels', () => {
    const [a, b] = parseExposition('m{x="1",y="2"} 1\nm{y="2",x="1"} 2');
    expect(seriesKey(a)).toBe(seriesKey(b));
  });

  it('round-trips what the router renders, including odd label values', () => {
    const m = new RouterMetrics('dep"\\\nx');
    m.forRevision('r1').observe(200, 0.003);
    const samples = parseExposition(m.render([{ revision_id: 'r1', weight_bps: 10000 }]));
    const weight = samples.find((s) => s.name === 'bp_router_weight_bps');
    expect(weight?.labels).toEqual({ deployment_id: 'dep"\\\nx', revision_id: 'r1' });
    expect(weight?.value).toBe(10000);
  });
});
