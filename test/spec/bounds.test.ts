/**
 * Bounds on untrusted input: values that once validated and then misbehaved (replicas: 1000000,
 * drain_seconds: 1e308, a `//host` health path that probes another server) and files that once
 * made validate grow to 1.1 GB (/dev/urandom).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile, parseEnvironment } from '../../src/spec/index.js';
import { MAX_INPUT_BYTES } from '../../src/spec/bounded-read.js';
import { MINIMAL, problemsOf } from './helpers.js';

const withRevision = (extra: string): string =>
  MINIMAL.replace(
    '        artifact: { command: [node, server.js] }',
    `        artifact: { command: [node, server.js] }\n${extra}`,
  );

describe('value bounds', () => {
  it.each([
    ['replicas above 1000', '        resources: { replicas: 1000000 }', /replicas/],
    ['max_replicas above 1000', '        resources: { max_replicas: 5000 }', /max_replicas/],
    ['drain_seconds above a day', '        drain_seconds: 1e308', /drain_seconds/],
    ['a health timeout above a day', '        health: { timeout_seconds: 1e9 }', /timeout_seconds/],
    ['a protocol-relative health path', '        health: { http_path: "//127.0.0.1:18081/healthz" }', /http_path/],
    ['a backslash health path', '        health: { http_path: "/\\\\evil.example/x" }', /http_path/],
    ['a duration with more digits than any timer', '        ttl: 99999999999999999999d', /ttl/],
  ])('rejects %s at validate', (_name, line, field) => {
    const problems = problemsOf(withRevision(line));
    expect(problems.map((p) => p.message).join('\n')).toMatch(field);
  });

  it('accepts the bounds themselves', () => {
    expect(() =>
      parseEnvironment(
        withRevision(
          '        resources: { replicas: 1000, max_replicas: 1000 }\n        drain_seconds: 86400\n' +
            '        health: { http_path: /healthz/deep, timeout_seconds: 86400 }\n        ttl: 30d',
        ),
        'env.yaml',
      ),
    ).not.toThrow();
  });
});

describe('file bounds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bounds-'));

  it('fails fast on /dev/urandom with a sentence, not a 1 GB read', async () => {
    const before = process.memoryUsage().rss;
    await expect(loadEnvironmentFile('/dev/urandom')).rejects.toThrow(
      /\/dev\/urandom is not an environment file: it is binary|not UTF-8/,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a file over the size limit without reading it all', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(MAX_INPUT_BYTES)}\n`);
    await expect(loadEnvironmentFile(big)).rejects.toThrow(/is larger than 16 MiB, the limit for an environment file/);
  });

  it('refuses a file that is not UTF-8 text', async () => {
    const latin = join(dir, 'latin1.yaml');
    writeFileSync(latin, Buffer.from([0x73, 0x63, 0x68, 0x65, 0x6d, 0x61, 0x3a, 0x20, 0xe9, 0xe9, 0x0a]));
    await expect(loadEnvironmentFile(latin)).rejects.toThrow(
      /latin1.yaml is not an environment file: it is not UTF-8 text/,
    );
  });

  it('still reads a valid file', async () => {
    const ok = join(dir, 'env.yaml');
    writeFileSync(ok, MINIMAL);
    expect((await loadEnvironmentFile(ok)).env.environment_id).toBe('demo');
  });
});
