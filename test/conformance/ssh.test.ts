import { describe, expect, it } from 'vitest';
import { checkNames, renderHuman } from '../../src/conformance/index.js';
import { useLab } from '../deployers/ssh/fixtures.js';
import { bench, namesWith } from './helpers.js';

const lab = useLab(1);

describe('the built-in ssh deployer', () => {
  it('passes the conformance bench against a real sshd host (two-host behaviour: test/deployers/ssh.test.ts)', async () => {
    const report = await bench('ssh', {
      config: lab().config({ kill_grace_seconds: 1 }) as unknown as Record<string, unknown>,
    });
    expect(namesWith(report, 'fail'), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(report.passed).toBeGreaterThanOrEqual(checkNames().length - 1);
  }, 400_000);
});
