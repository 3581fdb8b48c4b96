import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpError, InvalidInputError } from '../../src/model/errors.js';
import { loadEnvironmentFile, parseEnvironment } from '../../src/spec/index.js';
import { slowParseCount } from '../../src/spec/yaml-source.js';
import { fixture, MINIMAL, problemsOf } from './helpers.js';

describe('parseEnvironment on valid files', () => {
  it('normalizes the contract example to the exact Environment, defaults filled in', () => {
    const parsed = parseEnvironment(fixture('valid', 'contract-example.yaml'), 'env.yaml');
    expect(parsed.file).toBe('env.yaml');
    expect(parsed.env).toStrictEqual({
      schema: 'bp.environment/v1',
      environment_id: 'demo',
      deployers: { local: { type: 'local-process', config: {} } },
      deployments: [
        {
          deployment_id: 'web',
          deployer: 'local',
          listen: '127.0.0.1:8080',
          metrics_listen: null,
          revisions: [
            {
              revision_id: 'web-v1',
              artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hello' } },
              resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
              health: { http_path: '/healthz', timeout_seconds: 30 },
              drain_seconds: 5,
              ttl: '7d',
              state: 'ready',
            },
            {
              revision_id: 'web-v2',
              artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hi' } },
              resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
              health: { http_path: '/healthz', timeout_seconds: 30 },
              drain_seconds: 30,
              ttl: null,
              state: 'ready',
              // The fixture gives web-v2 no state: (docs/design.md#default-desired-state).
              state_defaulted: true,
            },
          ],
          traffic: [
            { revision_id: 'web-v1', weight_bps: 9000 },
            { revision_id: 'web-v2', weight_bps: 1000 },
          ],
          rollout: null,
        },
      ],
      notifications: [],
    });
  });

  it('fills partial resources and health field by field, keeps references unresolved and escapes literal', () => {
    const { env } = parseEnvironment(fixture('valid', 'everything.yaml'), 'everything.yaml');
    const [api, worker, batch] = env.deployments;
    expect(env.environment_id).toBe('prod.eu-1');
    expect(env.deployers.local).toStrictEqual({ type: 'local-process', config: {} });
    expect(env.deployers.cloud.config).toStrictEqual({
      region: 'eu-west-1',
      token: '${env:CLOUD_TOKEN}',
      retries: 3,
      tags: { team: 'payments', literal: '$${not-a-ref}' },
    });
    expect(api.listen).toBe('[::1]:9443');
    expect(api.revisions[0]).toStrictEqual({
      revision_id: 'api-1.0.0',
      artifact: {
        image: 'registry.example.com/api@sha256:0123abcd',
        env: { DATABASE_URL: '${env:DATABASE_URL}', PORT: '8080', MOTD: 'price: $${amount}' },
      },
      resources: { cpu: 2, memory_mb: 2048, replicas: 3, gpu: 1, max_replicas: 10 },
      health: { http_path: '/ready', timeout_seconds: 30 },
      drain_seconds: 0,
      ttl: '1.5h',
      state: 'ready',
      state_defaulted: true,
    });
    expect(api.revisions[1].artifact).toStrictEqual({ binary: './bin/api-0.9.0', cwd: './work', env: {} });
    expect(api.revisions.map((r) => r.state)).toEqual(['ready', 'inactive', 'archived']);
    expect(worker.traffic).toEqual([]);
    expect(worker.listen).toBe('localhost:8081');
    expect(batch).toStrictEqual({
      deployment_id: 'batch',
      deployer: 'local',
      listen: null,
      metrics_listen: null,
      revisions: [],
      traffic: [],
      rollout: null,
    });
    expect(env.notifications).toStrictEqual([
      {
        url: 'https://hooks.example.com/bp',
        events: ['apply.started', 'apply.finished', 'step.failed'],
        secret: '${env:BP_WEBHOOK_SECRET}',
      },
      { url: 'http://127.0.0.1:9000/events', events: ['*'] },
    ]);
  });

  it('resolves scalars with the YAML 1.2 core schema (no 1.1 surprises)', () => {
    const { env } = parseEnvironment(fixture('valid', 'quoting-and-scalars.yaml'), 'q.yaml');
    expect(env.deployers.local.config).toStrictEqual({
      n: 31,
      o: 15,
      s: '1_000',
      b: '0b101',
      t: true,
      z: null,
      f: 1000,
      e: 0.5,
    });
    expect(env.deployments[0].revisions[0].artifact.env).toStrictEqual({ YES: 'yes', N: '0123' });
    expect(env.deployments[0].revisions[0].resources).toStrictEqual({ cpu: 1, memory_mb: 256, replicas: 1, gpu: 0 });
    expect(env.deployments[0].revisions[0].drain_seconds).toBe(2.5);
  });
});

describe('ParsedEnvironment.locate', () => {
  const text = fixture('valid', 'contract-example.yaml');

  it('points at a mapping entry key, a list item, or a scalar value', () => {
    const parsed = parseEnvironment(text, 'env.yaml');
    expect(parsed.locate(['deployments', 0, 'revisions', 1, 'artifact'])).toEqual({
      file: 'env.yaml',
      line: 23,
      col: 9,
    });
    expect(parsed.locate(['deployments', 0, 'revisions', 1])).toEqual({ file: 'env.yaml', line: 22, col: 9 });
    expect(parsed.locate(['deployments', 0, 'deployer'])).toEqual({ file: 'env.yaml', line: 10, col: 15 });
    expect(parsed.locate(['deployments', 0, 'traffic', 1, 'weight_bps'])).toEqual({
      file: 'env.yaml',
      line: 26,
      col: 44,
    });
    expect(parsed.locate([])).toEqual({ file: 'env.yaml', line: 2, col: 1 });
  });

  it('falls back to the nearest existing ancestor', () => {
    const parsed = parseEnvironment(text, 'env.yaml');
    // revision web-v2 declares no resources: its entry is the closest thing to point at.
    expect(parsed.locate(['deployments', 0, 'revisions', 1, 'resources', 'cpu'])).toEqual({
      file: 'env.yaml',
      line: 22,
      col: 9,
    });
    expect(parsed.locate(['deployers', 'local', 'config', 'region'])).toEqual({ file: 'env.yaml', line: 7, col: 5 });
    expect(parsed.locate(['deployments', 7])).toEqual({ file: 'env.yaml', line: 8, col: 1 });
  });

  it('parses with the slow parser only when first asked for a position', () => {
    const parsed = parseEnvironment(MINIMAL, 'env.yaml');
    const before = slowParseCount();
    expect(parsed.locate(['deployments', 0])).toEqual({ file: 'env.yaml', line: 6, col: 5 });
    expect(parsed.locate(['deployments', 0, 'revisions', 0, 'revision_id'])).toEqual({
      file: 'env.yaml',
      line: 9,
      col: 22,
    });
    expect(slowParseCount()).toBe(before + 1);
  });
});

describe('problem reporting', () => {
  it('reports every problem, sorted by line and column, formatted FILE:LINE:COL: message', () => {
    const text = MINIMAL.replace('environment_id: demo', 'environment_id: de mo\nextra: 1').replace(
      'weight_bps: 10000',
      'weight_bps: 100',
    );
    let caught: unknown;
    try {
      parseEnvironment(text, 'conf/env.yaml');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    const err = caught as InvalidInputError;
    expect(err.message.split('\n')).toEqual([
      'conf/env.yaml:2:17: environment_id must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got "de mo"',
      'conf/env.yaml:3:1: unknown key "extra" in the environment',
      'conf/env.yaml:12:5: traffic weights of deployment "web" sum to 100, not 10000',
    ]);
    const positions = err.problems.map((p) => [p.line, p.col]);
    expect(positions).toEqual([...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  });

  it('reports schema and duplicate-key problems together', () => {
    const text = MINIMAL.replace('environment_id: demo', 'environment_id: demo\nenvironment_id: demo2').replace(
      'deployer: local',
      'deployer: 7',
    );
    expect(problemsOf(text).map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      '3:1: duplicate key "environment_id": each key may appear once in a mapping',
      '8:15: deployer in deployment "web" must be a string, got a number (quote the value)',
    ]);
  });

  it('points at the key of an empty value, which has no text of its own', () => {
    const text = MINIMAL.replace('deployer: local', 'deployer:');
    expect(problemsOf(text).map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      '7:5: deployer in deployment "web" must be a string, got nothing (null)',
    ]);
  });
});

describe('loadEnvironmentFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-spec-'));

  it('reads and parses a real file', async () => {
    const path = join(dir, 'env.yaml');
    writeFileSync(path, fixture('valid', 'contract-example.yaml'));
    const parsed = await loadEnvironmentFile(path);
    expect(parsed.file).toBe(path);
    expect(parsed.env.deployments[0].revisions.map((r) => r.revision_id)).toEqual(['web-v1', 'web-v2']);
  });

  it('names the file as given in problems', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, MINIMAL.replace('deployer: local', 'deployer: nope'));
    await expect(loadEnvironmentFile(path)).rejects.toThrow(
      `${path}:7:15: deployment "web" uses deployer "nope", which is not declared under deployers (declared: local)`,
    );
  });

  it('turns a missing file into one InvalidInput sentence', async () => {
    const path = join(dir, 'missing.yaml');
    const err = await loadEnvironmentFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(BpError.is(err)).toBe(true);
    expect((err as BpError).code).toBe('InvalidInput');
    expect((err as BpError).message).toBe(`cannot read ${path}: ENOENT: no such file or directory`);
  });

  it('turns a directory into one InvalidInput sentence', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    await expect(loadEnvironmentFile(path)).rejects.toThrow(
      `cannot read ${path}: EISDIR: illegal operation on a directory`,
    );
  });
});
