/**
 * How a check says what went wrong. These never leave the bench: the runner turns them into
 * `CheckResult`s, so they are plain classes rather than the coded errors of model/errors.
 */
export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly expected?: unknown,
    readonly observed?: unknown,
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

export class CheckSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckSkip';
  }
}

/** Collects every problem of a multi-case check so one bad case does not hide the others. */
export class Findings {
  private readonly problems: string[] = [];
  private readonly expected: Record<string, unknown> = {};
  private readonly observed: Record<string, unknown> = {};

  add(caseName: string, message: string, expected?: unknown, observed?: unknown): void {
    this.problems.push(`${caseName}: ${message}`);
    if (expected !== undefined) this.expected[caseName] = expected;
    if (observed !== undefined) this.observed[caseName] = observed;
  }

  /** Runs one case; a CheckFailure inside it is recorded, anything else propagates. */
  async run(caseName: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      if (!(e instanceof CheckFailure)) throw e;
      this.add(caseName, e.message, e.expected, e.observed);
    }
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const has = (o: Record<string, unknown>) => Object.keys(o).length > 0;
    throw new CheckFailure(
      this.problems.join('; '),
      has(this.expected) ? this.expected : undefined,
      has(this.observed) ? this.observed : undefined,
    );
  }
}

/** JSON with object keys sorted, so equal values always print (and compare) the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
