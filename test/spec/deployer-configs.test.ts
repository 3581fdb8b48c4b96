import { describe, expect, it } from 'vitest';
import { parseEnvironment, validateDeployerConfigs } from '../../src/spec/index.js';

const TEXT = `schema: bp.environment/v1
environment_id: demo
deployers:
  cloud:
    type: ./plugins/cloud.mjs
    config:
      region: 42
      zone: eu-1a
      retries: -1
  bare:
    type: my-npm-deployer
  local:
    type: local-process
    config: { anything: goes }
deployments: []
`;

const CLOUD_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['region', 'project'],
  properties: {
    region: { type: 'string' },
    project: { type: 'string' },
    retries: { type: 'integer', minimum: 0 },
  },
};

const lines = (problems: { file: string; line: number; col: number; message: string }[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);

describe('validateDeployerConfigs', () => {
  it('reports every config problem with its position, naming the deployer', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    expect(lines(await validateDeployerConfigs(parsed, { cloud: CLOUD_SCHEMA }))).toEqual([
      'env.yaml:6:5: missing required key "project" in config of deployer "cloud"',
      'env.yaml:7:15: config.region in deployer "cloud" must be a string, got a number (quote the value)',
      'env.yaml:8:7: unknown key "zone" in config of deployer "cloud"',
      'env.yaml:9:16: config.retries in deployer "cloud" must be >= 0, got -1',
    ]);
  });

  it('validates the default {} config, pointing at the deployer when config is absent', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    expect(lines(await validateDeployerConfigs(parsed, { bare: { type: 'object', required: ['endpoint'] } }))).toEqual([
      'env.yaml:10:3: missing required key "endpoint" in config of deployer "bare"',
    ]);
  });

  it('returns nothing for valid configs and ignores instances without a schema', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    expect(await validateDeployerConfigs(parsed, { local: { type: 'object' }, absent: { type: 'string' } })).toEqual(
      [],
    );
    expect(await validateDeployerConfigs(parsed, {})).toEqual([]);
  });

  it('accepts draft-07 plugin schemas and unknown annotation keywords', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      'x-ui-order': ['anything'],
      properties: { anything: { type: 'number', format: 'custom-thing' } },
    };
    expect(lines(await validateDeployerConfigs(parsed, { local: schema }))).toEqual([
      'env.yaml:14:25: config.anything in deployer "local" must be a number, got a string',
    ]);
  });

  it('reports a schema that cannot be compiled at the deployer type instead of throwing', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    const problems = await validateDeployerConfigs(parsed, {
      cloud: { type: 'object', properties: { a: { $ref: '#/nowhere' } } },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'env.yaml', line: 5, col: 11 });
    expect(problems[0].message).toMatch(
      /^deployer "cloud" \(type "\.\/plugins\/cloud\.mjs"\) has a config schema that cannot be compiled: /,
    );
  });

  it('works on a ParsedEnvironment built elsewhere, through its locate()', async () => {
    const parsed = parseEnvironment(TEXT, 'env.yaml');
    const copy = { env: parsed.env, file: parsed.file, text: parsed.text, locate: parsed.locate };
    expect(lines(await validateDeployerConfigs(copy, { cloud: CLOUD_SCHEMA }))[0]).toBe(
      'env.yaml:6:5: missing required key "project" in config of deployer "cloud"',
    );
  });
});
