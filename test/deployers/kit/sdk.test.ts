/**
 * The kit's ground for SDK deployers: clients built once on first use, shared, built again
 * after a failed attempt, released on close; and `providerCalls`, one deployer's calls bound
 * to its classifier and wording.
 */
import { describe, expect, it } from 'vitest';
import { BpError } from '../../../src/model/errors.js';
import { providerCalls } from '../../../src/deployers/kit/provider-errors.js';
import { importPackage, SdkDeployer } from '../../../src/deployers/kit/sdk.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

class Counting extends SdkDeployer<{ failFirst: boolean }, { id: number }> {
  builds = 0;
  released: number[] = [];
  protected async createClients(): Promise<{ id: number }> {
    this.builds += 1;
    if (this.config.failFirst && this.builds === 1) throw new Error('credential not ready');
    return { id: this.builds };
  }
  protected override releaseClients(c: { id: number }): void {
    this.released.push(c.id);
  }
  get = () => this.clients();
  run = <T>(key: string, fn: () => Promise<T>) => this.exclusive(key, fn);
}

describe('SdkDeployer', () => {
  it('builds the clients once, on the first call, and shares them', async () => {
    const d = new Counting({ failFirst: false }, quiet);
    expect(d.builds).toBe(0);
    const [a, b] = await Promise.all([d.get(), d.get()]);
    expect(a).toBe(b);
    expect(d.builds).toBe(1);
  });

  it('builds them again after a failed attempt', async () => {
    const d = new Counting({ failFirst: true }, quiet);
    await expect(d.get()).rejects.toThrow('credential not ready');
    expect(await d.get()).toEqual({ id: 2 });
  });

  it('close releases the clients it built, and the next call builds new ones', async () => {
    const d = new Counting({ failFirst: false }, quiet);
    await d.close();
    expect(d.released).toEqual([]);
    await d.get();
    await d.close();
    expect(d.released).toEqual([1]);
    expect(await d.get()).toEqual({ id: 2 });
  });

  it('serializes work on one key', async () => {
    const d = new Counting({ failFirst: false }, quiet);
    const order: string[] = [];
    let release!: () => void;
    const first = d.run('k', () => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const second = d.run('k', async () => void order.push('second'));
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });
});

describe('importPackage', () => {
  it('names the package and the install command when it is missing', async () => {
    const e = await importPackage('@bp-test/not-installed', {
      deployer: 'demo',
      what: 'Demo SDK package',
      install: 'npm install @bp-test/not-installed',
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'PluginLoad' });
    expect((e as Error).message).toBe(
      'the demo deployer needs the Demo SDK package @bp-test/not-installed, which is not installed; run: npm install @bp-test/not-installed',
    );
  });
});

describe('providerCalls', () => {
  const calls = providerCalls(
    (e) => ({
      kind: (e as { status?: number }).status === 404 ? 'not-found' : 'throttled',
      status: (e as { status?: number }).status ?? 0,
      code: 'X',
      message: String((e as Error).message),
      retryAfterMs: 500,
    }),
    (f, what) => `Demo ${what} failed: ${f.message}`,
  );

  it('runs a call once and words its failure with the operation', async () => {
    let tries = 0;
    const e = await calls
      .call('create thing', undefined, () => {
        tries += 1;
        throw Object.assign(new Error('slow down'), { status: 429 });
      })
      .catch((x: unknown) => x);
    expect(tries).toBe(1);
    expect(e).toMatchObject({ code: 'Provider', message: 'Demo create thing failed: slow down', retryable: true });
    expect((e as { retryAfterMs?: number }).retryAfterMs).toBe(500);
  });

  it('callOrNull makes not-found null; error translates a failure caught elsewhere', async () => {
    const gone = Object.assign(new Error('gone'), { status: 404 });
    expect(await calls.callOrNull('read thing', undefined, () => Promise.reject(gone))).toBeNull();
    const e = calls.error('delete thing', gone);
    expect(BpError.is(e)).toBe(true);
    expect(e.message).toBe('Demo delete thing failed: gone');
  });

  it('an aborted signal stops the call before it is made', async () => {
    const ac = new AbortController();
    ac.abort();
    let made = false;
    const e = await calls
      .call('create thing', ac.signal, () => {
        made = true;
      })
      .catch((x: unknown) => x);
    expect(made).toBe(false);
    expect(e).toMatchObject({ code: 'Aborted' });
  });
});
