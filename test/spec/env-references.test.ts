import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { findEnvReferences, parseEnvironment, resolveEnvReferences } from '../../src/spec/index.js';
import { fixture } from './helpers.js';

const SECRET_VALUES = {
  CLOUD_TOKEN: 'tok-Zq81x',
  DATABASE_URL: 'postgres://u:pw-77kq@db/app',
  BP_WEBHOOK_SECRET: 'whsec-Hh2',
};

function everything() {
  return parseEnvironment(fixture('valid', 'everything.yaml'), 'everything.yaml');
}

function caught(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return e as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('resolveEnvReferences', () => {
  it('resolves artifact env values, notification secrets and deployer config strings, and unescapes $${', () => {
    const { env } = everything();
    const resolved = resolveEnvReferences(env, SECRET_VALUES);
    expect(resolved.deployers.cloud.config).toStrictEqual({
      region: 'eu-west-1',
      token: 'tok-Zq81x',
      retries: 3,
      tags: { team: 'payments', literal: '${not-a-ref}' },
    });
    expect(resolved.deployments[0].revisions[0].artifact.env).toStrictEqual({
      DATABASE_URL: 'postgres://u:pw-77kq@db/app',
      PORT: '8080',
      MOTD: 'price: ${amount}',
    });
    expect(resolved.notifications[0].secret).toBe('whsec-Hh2');
  });

  it('returns a deep copy and leaves the input, and strings outside reference sites, untouched', () => {
    const parsed = parseEnvironment(
      fixture('valid', 'minimal.yaml').replace(
        'command: [node, server.js]',
        'command: [echo, "$$$${env:HOME}"], env: { H: "${env:HOME}" }',
      ),
      'env.yaml',
    );
    const before = structuredClone(parsed.env);
    const resolved = resolveEnvReferences(parsed.env, { HOME: '/home/op' });
    expect(parsed.env).toStrictEqual(before);
    expect(resolved).not.toBe(parsed.env);
    expect(resolved.deployments[0]).not.toBe(parsed.env.deployments[0]);
    expect(resolved.deployments[0].revisions[0].artifact).toStrictEqual({
      command: ['echo', '$${env:HOME}'],
      env: { H: '/home/op' },
    });
    // (A reference outside the places a secret may go is a validation error: test/spec/secret-references.test.ts.)
  });

  it('lists every missing variable with where it is referenced and positions, never a value', () => {
    const parsed = everything();
    const err = caught(() => resolveEnvReferences(parsed.env, { CLOUD_TOKEN: SECRET_VALUES.CLOUD_TOKEN }, parsed));
    expect(err.message.split('\n')).toEqual([
      'everything.yaml:23:27: environment variable DATABASE_URL is not set (referenced by artifact.env.DATABASE_URL in revision "api-1.0.0")',
      'everything.yaml:55:13: environment variable BP_WEBHOOK_SECRET is not set (referenced by secret in notification #1)',
    ]);
    expect(err.problems.map((p) => [p.line, p.col])).toEqual([
      [23, 27],
      [55, 13],
    ]);
    expect(err.message).not.toContain(SECRET_VALUES.CLOUD_TOKEN);
  });

  it('names places by JSON path when there is no source to point into', () => {
    const { env } = everything();
    const err = caught(() => resolveEnvReferences(env, {}));
    expect(err.message.split('\n')).toEqual([
      '<environment>: environment variable CLOUD_TOKEN is not set (referenced by config.token in deployer "cloud")',
      '<environment>: environment variable DATABASE_URL is not set (referenced by artifact.env.DATABASE_URL in revision "api-1.0.0")',
      '<environment>: environment variable BP_WEBHOOK_SECRET is not set (referenced by secret in notification #1)',
    ]);
  });

  it('resolves every string of a free-standing fragment, such as one deployer config', () => {
    const config = {
      url: 'https://${env:HOST}:${env:PORT}/x',
      nested: [{ key: '${env:HOST}' }],
      n: 3,
      keep: '$${env:HOST}',
    };
    expect(resolveEnvReferences(config, { HOST: 'h', PORT: '1' })).toStrictEqual({
      url: 'https://h:1/x',
      nested: [{ key: 'h' }],
      n: 3,
      keep: '${env:HOST}',
    });
    const err = caught(() =>
      resolveEnvReferences(
        config,
        { HOST: 'secret-host-value' },
        { file: 'env.yaml', basePath: ['deployers', 'x', 'config'] },
      ),
    );
    expect(err.message).toBe('env.yaml: environment variable PORT is not set (referenced by deployers.x.config.url)');
    expect(err.message).not.toContain('secret-host-value');
  });

  it('rejects a malformed reference at resolve time too, without echoing the string', () => {
    const err = caught(() => resolveEnvReferences({ a: 'pw-Secret1 ${oops}' }, {}));
    expect(err.message).toBe(
      '<environment>: a has a malformed reference: write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} ' +
        '(STORE one of aws-sm, aws-ssm, gcp-sm, azure-kv, vault, k8s), or $${ for a literal ${',
    );
    expect(err.message).not.toContain('pw-Secret1');
  });

  it('reads only variables that are really set, not inherited object properties', () => {
    const err = caught(() =>
      resolveEnvReferences({ a: '${env:constructor}', b: '${env:toString}' }, { ...process.env }),
    );
    expect(err.problems.map((p) => p.message)).toEqual([
      'environment variable constructor is not set (referenced by a)',
      'environment variable toString is not set (referenced by b)',
    ]);
    expect(resolveEnvReferences({ home: '${env:HOME}' }, process.env)).toEqual({ home: process.env.HOME });
  });

  it('accepts a plain label as `where`', () => {
    const err = caught(() => resolveEnvReferences('${env:NOPE}', {}, 'cli flag --config'));
    expect(err.message).toBe('cli flag --config: environment variable NOPE is not set (referenced by the value)');
  });
});

describe('findEnvReferences', () => {
  it('lists each referenced name once, sorted, only from reference sites', () => {
    const { env } = everything();
    expect(findEnvReferences(env)).toEqual(['BP_WEBHOOK_SECRET', 'CLOUD_TOKEN', 'DATABASE_URL']);
  });

  it('ignores escaped and malformed references', () => {
    expect(findEnvReferences({ a: '$${env:ESCAPED} ${env:A}${env:B} ${env:} ${env:A}', b: ['${env:C}'] })).toEqual([
      'A',
      'B',
      'C',
    ]);
  });
});
