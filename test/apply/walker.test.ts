import { describe, expect, it } from 'vitest';
import { walk } from '../../src/apply/walker.js';
import { backoffDelayMs, withRetries, withTimeout } from '../../src/apply/retry.js';

const v = (id: string, ...deps: string[]) => ({ id, depends_on: deps });
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('walk', () => {
  it('runs a vertex only after its dependencies and respects parallelism', async () => {
    const done: string[] = [];
    let running = 0;
    let peak = 0;
    const graph = [v('a'), v('b'), v('c'), v('d', 'a', 'b'), v('e', 'd')];
    const r = await walk(
      graph,
      async (x) => {
        running++;
        peak = Math.max(peak, running);
        for (const dep of x.depends_on) expect(done).toContain(dep);
        await tick(10);
        done.push(x.id);
        running--;
        return true;
      },
      { parallelism: 2 },
    );
    expect(peak).toBe(2);
    expect(done).toHaveLength(5);
    expect([...r.status.values()].every((s) => s === 'succeeded')).toBe(true);
  });

  it('skips everything downstream of a failure and keeps independent branches going', async () => {
    const ran: string[] = [];
    const graph = [v('a'), v('b', 'a'), v('c', 'b'), v('x'), v('y', 'x')];
    const skipped: string[] = [];
    const r = await walk(
      graph,
      async (x) => {
        ran.push(x.id);
        if (x.id === 'a') throw new Error('boom');
        return true;
      },
      { parallelism: 1, onSkip: (x, cause) => skipped.push(`${x.id}<-${cause}`) },
    );
    expect(ran.sort()).toEqual(['a', 'x', 'y']);
    expect(r.status.get('a')).toBe('failed');
    expect(r.status.get('b')).toBe('skipped');
    expect(r.status.get('c')).toBe('skipped');
    expect(r.skippedBecause.get('c')).toBe('a');
    expect(skipped.sort()).toEqual(['b<-a', 'c<-a']);
    expect(r.status.get('y')).toBe('succeeded');
  });

  it('starts nothing new once stopped, but lets running vertices finish', async () => {
    const stop = new AbortController();
    const graph = [v('a'), v('b'), v('c', 'a')];
    const r = await walk(
      graph,
      async (x) => {
        if (x.id === 'a') stop.abort();
        await tick(20);
        return true;
      },
      { parallelism: 1, stop: stop.signal },
    );
    expect(r.status.get('a')).toBe('succeeded');
    expect(r.status.get('b')).toBe('not_started');
    expect(r.status.get('c')).toBe('not_started');
  });

  it('starts ready vertices in input order, however many there are', async () => {
    const ids = Array.from({ length: 500 }, (_, i) => `s${i}`);
    // Every third vertex depends on the one before it: readiness arrives out of input order.
    const graph = ids.map((id, i) => (i % 3 === 2 ? v(id, ids[i - 1]) : v(id)));
    const started: string[] = [];
    await walk(
      graph,
      async (x) => {
        started.push(x.id);
        await tick(0);
        return true;
      },
      { parallelism: 1 },
    );
    // One slot: a vertex made ready by the one before it has the lowest position, so it goes next.
    expect(started).toEqual(ids);
  });

  it('releaseSlot lets an independent vertex start early, while dependents still wait for the vertex to settle', async () => {
    const events: string[] = [];
    let finishA!: () => void;
    const graph = [v('a'), v('b'), v('c', 'a'), v('d')];
    const r = await walk(
      graph,
      async (x, control) => {
        events.push(`start ${x.id}`);
        if (x.id === 'a') {
          const finished = new Promise<void>((resolve) => (finishA = resolve));
          control.releaseSlot();
          control.releaseSlot(); // twice must not free a second slot
          await finished;
        }
        if (x.id === 'b') {
          expect(events).not.toContain('start c');
          finishA();
        }
        await tick(5);
        events.push(`end ${x.id}`);
        return true;
      },
      { parallelism: 1 },
    );
    expect(events.slice(0, 2)).toEqual(['start a', 'start b']);
    expect(events.indexOf('start c')).toBeGreaterThan(events.indexOf('end a'));
    // One slot, released once: d waits for b to end.
    expect(events.indexOf('start d')).toBeGreaterThan(events.indexOf('end b'));
    expect([...r.status.values()].every((s) => s === 'succeeded')).toBe(true);
  });

  it('waits for every vertex to settle, released slots included, before resolving', async () => {
    let settled = false;
    const r = await walk(
      [v('a')],
      async (_x, control) => {
        control.releaseSlot();
        await tick(30);
        settled = true;
        return true;
      },
      { parallelism: 1 },
    );
    expect(settled).toBe(true);
    expect(r.status.get('a')).toBe('succeeded');
  });

  it('handles an empty graph', async () => {
    const r = await walk([], async () => true, { parallelism: 3 });
    expect(r.status.size).toBe(0);
  });
});

describe('retries and timeouts', () => {
  it('backoff grows exponentially up to the cap, with jitter below it', () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(policy, 0, () => 0.999)).toBe(99);
    expect(backoffDelayMs(policy, 3, () => 0.999)).toBe(799);
    expect(backoffDelayMs(policy, 8, () => 0.999)).toBe(999);
    expect(backoffDelayMs(policy, 8, () => 0)).toBe(0);
  });

  it('retries retryable errors only, up to the attempt bound', async () => {
    const never = new AbortController().signal;
    let calls = 0;
    const flaky = () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('throttled'), { code: 'Provider', retryable: true });
      return Promise.resolve('ok');
    };
    await expect(withRetries(async () => flaky(), { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 }, never)).resolves.toBe(
      'ok',
    );
    expect(calls).toBe(3);
    calls = 0;
    const permanent = async () => {
      calls++;
      throw Object.assign(new Error('bad'), { code: 'Provider', retryable: false });
    };
    await expect(withRetries(permanent, { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 }, never)).rejects.toThrow('bad');
    expect(calls).toBe(1);
    calls = 0;
    const always = async () => {
      calls++;
      throw Object.assign(new Error('again'), { retryable: true });
    };
    await expect(withRetries(always, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, never)).rejects.toThrow('again');
    expect(calls).toBe(3);
  });

  it('a verb that ignores its signal still times out, and the signal it got is aborted', async () => {
    let seen: AbortSignal | undefined;
    const parent = new AbortController();
    const p = withTimeout(
      (s) => {
        seen = s;
        return new Promise(() => undefined);
      },
      50,
      parent.signal,
      'warm:web/v1',
    );
    await expect(p).rejects.toMatchObject({ code: 'Timeout', message: 'warm:web/v1 did not finish within 0s' });
    expect(seen?.aborted).toBe(true);
  });

  it('an interrupt rejects a running call with Aborted', async () => {
    const parent = new AbortController();
    const p = withTimeout(() => new Promise(() => undefined), 10_000, parent.signal, 'stage:x/y');
    parent.abort();
    await expect(p).rejects.toMatchObject({ code: 'Aborted' });
  });
});

describe('walk: a closed graph', () => {
  it('refuses a dependency that is not among the vertices, before running anything', async () => {
    const ran: string[] = [];
    await expect(
      walk([v('a'), v('b', 'a', 'ghost'), v('c', 'gone')], async (x) => ran.push(x.id) > 0, { parallelism: 2 }),
    ).rejects.toMatchObject({
      code: 'PlanError',
      problems: [
        'step "b" depends on "ghost", which is not in the plan',
        'step "c" depends on "gone", which is not in the plan',
      ],
    });
    expect(ran).toEqual([]);
  });
});
