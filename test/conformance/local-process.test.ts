import { describe, expect, it } from 'vitest';
import { checkNames, renderHuman } from '../../src/conformance/index.js';
import { bench, namesWith } from './helpers.js';

describe('the built-in local-process deployer', () => {
  it('passes the conformance bench with real processes, sockets and files', async () => {
    const report = await bench('local-process');
    // On failure, the human report says which check broke and why.
    expect(namesWith(report, 'fail'), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(report.passed).toBeGreaterThanOrEqual(checkNames().length - 1);
  }, 300_000);
});
