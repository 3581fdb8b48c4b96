import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  renderCheck,
  renderFooter,
  renderHuman,
  renderJson,
  renderJUnit,
  type ConformanceReport,
} from '../../src/conformance/index.js';
import { bench, BROKEN_DIR } from './helpers.js';

const REPORT: ConformanceReport = {
  deployer: './my <deployer>.mjs',
  checks: [
    { name: 'happy-path', status: 'pass', durationMs: 120 },
    {
      name: 'invalid-split',
      status: 'fail',
      message: 'split sum 9000: resolved, expected a "InvalidSplit" rejection & <nothing> applied\u0001',
      expected: 'InvalidSplit',
      observed: { resolved: true },
      durationMs: 35,
    },
    {
      name: 'runtime-config',
      status: 'skip',
      message: "the deployer has no reportRuntimeConfig; it's fine",
      durationMs: 0,
    },
  ],
  passed: 1,
  failed: 1,
  skipped: 1,
  leaks: ['abort: revision x-a1 still observed healthy after cleanup (archive succeeded)'],
};

/** Enough of an XML reader to prove well-formedness: balanced tags, no raw markup in text. */
function xmlElements(xml: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const all: typeof stack = [];
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  for (const m of body.matchAll(tag)) {
    expect(m.index, 'no stray markup').toBe(consumed);
    consumed += m[0].length;
    if (m[5] !== undefined) {
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      if (stack.length > 0) stack[stack.length - 1].text += m[5];
      continue;
    }
    const [, closing, name, rawAttrs, selfClosing] = m;
    if (closing) {
      expect(stack.pop()?.name).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w-]+)="([^"]*)"/g)) {
      expect(a[2]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      attrs[a[1]] = a[2];
    }
    const el = { name, attrs, text: '' };
    all.push(el);
    if (!selfClosing) stack.push(el);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
  return all;
}

describe('renderHuman', () => {
  it('prints a line per check, the expected and observed values of failures, leaks and the summary', () => {
    const lines = renderHuman(REPORT).trimEnd().split('\n');
    expect(lines[0]).toBe('PASS happy-path (120 ms)');
    expect(lines[1]).toMatch(/^FAIL invalid-split: split sum 9000: resolved/);
    expect(lines[2]).toBe('     expected: "InvalidSplit"');
    expect(lines[3]).toBe('     observed: {"resolved":true}');
    expect(lines[4]).toBe("SKIP runtime-config: the deployer has no reportRuntimeConfig; it's fine");
    expect(lines[5]).toBe('LEAK abort: revision x-a1 still observed healthy after cleanup (archive succeeded)');
    expect(lines[6]).toBe('1 passed, 1 failed, 1 skipped');
    expect(lines).toHaveLength(7);
  });

  it('is the streamed check lines followed by the footer', () => {
    const streamed = REPORT.checks.map((c) => renderCheck(c) + '\n').join('');
    expect(streamed + renderFooter(REPORT)).toBe(renderHuman(REPORT));
    expect(renderFooter({ ...REPORT, leaks: [] })).toBe('1 passed, 1 failed, 1 skipped\n');
  });
});

describe('renderJson', () => {
  it('is the report with a format version, in snake_case', () => {
    expect(JSON.parse(renderJson(REPORT))).toEqual({
      format_version: 'bp.conformance/v1',
      ...REPORT,
      checks: REPORT.checks.map(({ durationMs, ...c }) => ({ ...c, duration_ms: durationMs })),
    });
  });
});

describe('renderJUnit', () => {
  it('is well-formed, escaped JUnit XML with one testcase per check', () => {
    const xml = renderJUnit(REPORT);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    const els = xmlElements(xml);
    expect(els[0]).toMatchObject({
      name: 'testsuites',
      attrs: { tests: '3', failures: '1', skipped: '1', errors: '0' },
    });
    expect(els[1]).toMatchObject({
      name: 'testsuite',
      attrs: { name: 'bp conformance: ./my &lt;deployer&gt;.mjs', tests: '3' },
    });
    const cases = els.filter((e) => e.name === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['happy-path', 'invalid-split', 'runtime-config']);
    expect(cases[0].attrs.time).toBe('0.120');
    const failure = els.find((e) => e.name === 'failure')!;
    expect(failure.attrs.message).toBe(
      'split sum 9000: resolved, expected a &quot;InvalidSplit&quot; rejection &amp; &lt;nothing&gt; applied',
    );
    expect(failure.text).toContain('expected: &quot;InvalidSplit&quot;');
    expect(els.find((e) => e.name === 'skipped')?.attrs.message).toBe(
      'the deployer has no reportRuntimeConfig; it&apos;s fine',
    );
    expect(els.find((e) => e.name === 'system-err')?.text).toContain('LEAK abort: revision x-a1');
  });

  it('renders a real bench run of a broken deployer', async () => {
    const report = await bench(join(BROKEN_DIR, 'lax-split.mjs'));
    const els = xmlElements(renderJUnit(report));
    expect(els.filter((e) => e.name === 'testcase')).toHaveLength(report.checks.length);
    const failures = els.filter((e) => e.name === 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0].attrs.message).toContain('sum 9000');
    expect(renderHuman(report)).toMatch(/\n15 passed, 1 failed, 0 skipped\n$/);
  }, 30_000);
});
