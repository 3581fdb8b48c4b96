import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyDeployer, vmDeployer } from '../../../src/deployers/kit/lazy-deployer.js';
import { checkPlugin } from '../../../src/deployers/registry.js';
import { DEPLOYER_API_VERSION, type Deployer, type Logger } from '../../../src/model/deployer.js';
import type { Environment } from '../../../src/model/environment.js';

const scratch = mkdtempSync(join(tmpdir(), 'bp-lazy-deployer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const env = { deployments: [] } as unknown as Environment;
const schema = { type: 'object', additionalProperties: false, properties: { size: { type: 'integer' } } };
const made = {} as Deployer;

describe('lazyDeployer', () => {
  it('declares a plugin bp accepts: type, the current apiVersion, the schema and the optional fields', () => {
    const plugin = lazyDeployer<{ size?: number }>('thing', schema, { weightGranularityBps: 10, create: () => made });
    expect(checkPlugin('thing', plugin)).toBe(plugin);
    expect(plugin).toMatchObject({
      type: 'thing',
      apiVersion: DEPLOYER_API_VERSION,
      configSchema: schema,
      weightGranularityBps: 10,
    });
    expect(plugin.checkEnvironment).toBeUndefined();
    expect(plugin.fetchesSecretsItself).toBeUndefined();
  });

  it('runs every check, in order, with what checkEnvironment is given', () => {
    const seen: string[] = [];
    const plugin = lazyDeployer<{ size?: number }>('thing', schema, {
      checks: [
        (config, e, instance) => {
          seen.push(`first ${config.size} ${instance} ${e === env}`);
          return [{ path: ['deployers', instance], message: 'first' }];
        },
        () => [
          { path: ['a'], message: 'second' },
          { path: ['b'], message: 'third' },
        ],
      ],
      create: () => made,
    });
    expect(plugin.checkEnvironment?.({ size: 2 }, env, 'mine').map((p) => p.message)).toEqual([
      'first',
      'second',
      'third',
    ]);
    expect(seen).toEqual(['first 2 mine true']);
  });

  it('creates the state directory (0700) before create when the deployer keeps files, and only then', async () => {
    const stateDir = join(scratch, 'nested', 'state');
    let existed: boolean | undefined;
    const plugin = lazyDeployer('thing', schema, {
      usesStateDir: true,
      create: async (_config, ctx) => {
        existed = statSync(ctx.stateDir).isDirectory();
        return made;
      },
    });
    await expect(plugin.create({}, { logger, stateDir })).resolves.toBe(made);
    expect(existed).toBe(true);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);

    const untouched = join(scratch, 'untouched');
    const stateless = lazyDeployer('thing', schema, { create: () => made });
    expect(stateless.create({}, { logger, stateDir: untouched })).toBe(made);
    expect(() => statSync(untouched)).toThrow();
  });

  it('vmDeployer declares that the deployer fetches its secrets itself', () => {
    const plugin = vmDeployer('vm', schema, { checks: [() => []], create: () => made });
    expect(plugin.fetchesSecretsItself).toBe(true);
    expect(plugin.checkEnvironment?.({}, env, 'vm')).toEqual([]);
  });
});
