/** The bench's report for people (one line per check), for machines (JSON) and for CI (JUnit XML). */
import { OUTPUT_FORMATS } from '../model/output.js';
import type { CheckResult, ConformanceReport } from './types.js';
import { canonicalJson } from './verdict.js';

const MAX_VALUE_CHARS = 2000;

function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : canonicalJson(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length} chars)` : text;
}

export function summaryLine(r: ConformanceReport): string {
  return `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
}

/** The line(s) for one check, as streamed while the bench runs. */
export function renderCheck(c: CheckResult): string {
  const ms = `(${c.durationMs} ms)`;
  if (c.status === 'pass') return `PASS ${c.name} ${ms}`;
  if (c.status === 'skip') return `SKIP ${c.name}: ${c.message ?? 'skipped'}`;
  const lines = [`FAIL ${c.name}: ${c.message ?? 'failed'} ${ms}`];
  if (c.expected !== undefined || c.observed !== undefined) {
    lines.push(`     expected: ${shown(c.expected)}`, `     observed: ${shown(c.observed)}`);
  }
  return lines.join('\n');
}

/** What follows the check lines: leaks, then the summary (for a CLI that streamed the checks). */
export function renderFooter(r: ConformanceReport): string {
  return [...r.leaks.map((leak) => `LEAK ${leak}`), summaryLine(r)].join('\n') + '\n';
}

export function renderHuman(r: ConformanceReport): string {
  return r.checks.map((c) => renderCheck(c) + '\n').join('') + renderFooter(r);
}

export function renderJson(r: ConformanceReport): string {
  const checks = r.checks.map(({ durationMs, ...c }) => ({ ...c, duration_ms: durationMs }));
  return JSON.stringify({ format_version: OUTPUT_FORMATS.conformance, ...r, checks }, null, 2) + '\n';
}

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function renderJUnit(r: ConformanceReport): string {
  const total = r.checks.reduce((a, c) => a + c.durationMs, 0);
  const suite = `bp conformance: ${r.deployer}`;
  const classname = xmlEscape(`bp.conformance.${r.deployer}`);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="bp conformance" tests="${r.checks.length}" failures="${r.failed}" errors="0" skipped="${r.skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${r.checks.length}" failures="${r.failed}" errors="0" skipped="${r.skipped}" time="${seconds(total)}">`,
  ];
  for (const c of r.checks) {
    const open = `    <testcase classname="${classname}" name="${xmlEscape(c.name)}" time="${seconds(c.durationMs)}"`;
    if (c.status === 'pass') {
      out.push(`${open}/>`);
    } else if (c.status === 'skip') {
      out.push(`${open}>`, `      <skipped message="${xmlEscape(c.message ?? '')}"/>`, '    </testcase>');
    } else {
      const detail = [c.message ?? 'failed'];
      if (c.expected !== undefined || c.observed !== undefined)
        detail.push(`expected: ${shown(c.expected)}`, `observed: ${shown(c.observed)}`);
      out.push(
        `${open}>`,
        `      <failure message="${xmlEscape(c.message ?? 'failed')}" type="ConformanceFailure">${xmlEscape(detail.join('\n'))}</failure>`,
        '    </testcase>',
      );
    }
  }
  if (r.leaks.length > 0) {
    out.push(`    <system-err>${xmlEscape(r.leaks.map((l) => `LEAK ${l}`).join('\n'))}</system-err>`);
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}
