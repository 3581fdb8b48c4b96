/**
 * Fault rules and the request journal (BEHAVIOUR.md, "Faults" and "Journal"): tests inject
 * throttling, server errors, conflicts and latency, then assert on what the client sent.
 */
export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matches the request path (substring or regular expression). */
  path?: string | RegExp;
  /** Matches the Content-Type of the request (e.g. apply-patch). */
  contentType?: string;
  /** 429, 500, 409 ...; absent or 0 for a latency-only rule. */
  status?: number;
  /** For 429: the Retry-After header and details.retryAfterSeconds (default 1). */
  retryAfterSeconds?: number;
  latencyMs?: number;
  /** How many requests the rule applies to (forever when absent). */
  times?: number;
}

export interface JournalEntry {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  userAgent: string | null;
  authorization: string | null;
  status: number;
  body: unknown;
}

export class Faults {
  private rules: Array<FaultRule & { left: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule matching the request, consuming one of its uses. */
  take(method: string, path: string, contentType: string | null): FaultRule | undefined {
    const rule = this.rules.find(
      (r) =>
        r.left > 0 &&
        (!r.method || r.method === method) &&
        (!r.path || (typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))) &&
        (!r.contentType || (contentType ?? '').includes(r.contentType)),
    );
    if (rule) rule.left--;
    return rule;
  }
}

export class Journal {
  readonly entries: JournalEntry[] = [];

  record(e: JournalEntry): void {
    this.entries.push(e);
  }

  clear(): void {
    this.entries.length = 0;
  }

  /** Entries matching a method and a path substring. */
  find(method: string, pathIncludes: string): JournalEntry[] {
    return this.entries.filter((e) => e.method === method && e.path.includes(pathIncludes));
  }
}
