/**
 * bp on a real terminal: a pseudo-terminal from util-linux `script`, so stdin/stdout are TTYs
 * exactly as for an operator. Approval prompt, cancellation, and colour only without NO_COLOR.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BP, engineEnv, readProvider, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;

function onTerminal(
  args: string[],
  answer: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, BP, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
    cwd: t.dir,
    env: { ...process.env, NO_COLOR: undefined, TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let answered = false;
  child.stdout.on('data', (d) => {
    out += d;
    if (!answered && out.includes('Enter a value:')) {
      answered = true;
      child.stdin.write(answer === '\u0003' ? answer : `${answer}\n`);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

beforeEach(() => {
  t = tempDir();
  provider = join(t.dir, 'provider.json');
  writeFile(
    join(t.dir, 'env.yaml'),
    engineEnv({ provider, deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }] }),
  );
});
afterEach(() => t.cleanup());

describe('on a terminal', () => {
  it("asks for approval and applies on 'yes', in colour", async () => {
    const r = await onTerminal(['apply', 'env.yaml'], 'yes');
    expect(r.out).toContain('Do you want to apply these changes to environment "demo"?');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\u001b\[32mApply complete/);
    expect(readProvider(provider).splits.web).toEqual([{ revision_id: 'web-v1', weight_bps: 10000 }]);
  });

  it('shows the whole plan before the approval question', async () => {
    const r = await onTerminal(['apply', 'env.yaml'], 'no', { NO_COLOR: '1' });
    const plan = r.out.indexOf('bp will perform the following actions');
    const question = r.out.indexOf('Do you want to apply');
    expect(plan).toBeGreaterThanOrEqual(0);
    expect(question).toBeGreaterThan(plan);
    expect(r.out.indexOf('Plan: ')).toBeLessThan(question);
  });

  it('exits 130 on Ctrl-C at the prompt, changing nothing', async () => {
    const r = await onTerminal(['apply', 'env.yaml'], '\u0003', { NO_COLOR: '1' });
    expect(r.code).toBe(130);
    expect(r.out).toContain('Apply cancelled at the prompt; nothing was changed.');
    expect(readProvider(provider).revisions).toEqual({});
  });

  it('cancels on anything but yes, changing nothing', async () => {
    const r = await onTerminal(['apply', 'env.yaml'], 'y');
    expect(r.code).toBe(1);
    expect(r.out).toContain('Apply cancelled; nothing was changed.');
    expect(readProvider(provider).revisions).toEqual({});
  });

  it('never colours with NO_COLOR, even on a terminal', async () => {
    const r = await onTerminal(['apply', 'env.yaml', '--auto-approve'], '', { NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Apply complete');
    expect(r.out).not.toMatch(/\u001b\[3\dm/);
  });
});
