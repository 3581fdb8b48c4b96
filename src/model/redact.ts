/**
 * The one redactor of a bp process. Every secret value bp resolves (a `${env:...}`,
 * `${file:...}` or `${secret:...}` reference) is registered here the moment it is resolved,
 * and everything bp prints, records as an error, or sends (messages, progress lines,
 * `--json`, `last_error` in state, journals and backups, webhook bodies) passes through
 * `redact` first. A value is therefore never copied into anything bp writes or sends, even
 * when an app, a plugin or a resolver puts it into an error message.
 */

export const REDACTED = '[redacted]';

/**
 * Values shorter than this are not registered: a 1-3 character "secret" cannot be told apart
 * from ordinary text and replacing it would garble every message (docs/secrets.md says so).
 */
export const MIN_REDACTED_LENGTH = 4;

export class Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | null = null;

  /** Registers a secret value and the forms it takes once escaped into JSON, URLs or base64. */
  register(value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < MIN_REDACTED_LENGTH) return;
    const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    // Multi-line values (PEM keys) also leak line by line: register each substantial line.
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) forms.add(line.trim());
    let added = false;
    for (const f of forms) {
      if (f.length >= MIN_REDACTED_LENGTH && !this.values.has(f)) {
        this.values.add(f);
        added = true;
      }
    }
    if (added) this.pattern = null;
  }

  /** Registers every string inside a resolved value (say, a parsed JSON secret). */
  registerDeep(value: unknown): void {
    if (typeof value === 'string') this.register(value);
    else if (Array.isArray(value)) value.forEach((v) => this.registerDeep(v));
    else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => this.registerDeep(v));
  }

  get size(): number {
    return this.values.size;
  }

  /** `text` with every registered value replaced by [redacted]. */
  redact(text: string): string {
    if (this.values.size === 0 || typeof text !== 'string' || text.length < MIN_REDACTED_LENGTH) return text;
    if (!this.pattern) {
      // Longest first, so a value that contains another is replaced whole.
      const alternatives = [...this.values].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.pattern, REDACTED);
  }

  /** A copy of `value` with every string redacted (keys too); other values unchanged. */
  redactDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v === null || typeof v !== 'object') return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const key = this.redact(k);
        if (key === '__proto__')
          Object.defineProperty(out, key, { value: walk(x), enumerable: true, writable: true, configurable: true });
        else out[key] = walk(x);
      }
      return out;
    };
    return walk(value) as T;
  }

  /** Forgets every value (tests only). */
  clear(): void {
    this.values.clear();
    this.pattern = null;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The process's redactor: one per bp process, shared by every layer. */
export const redactor = new Redactor();

/** Shorthand for `redactor.redact`. */
export function redact(text: string): string {
  return redactor.redact(text);
}

const MESSAGE_KEYS = new Set(['last_error', 'error', 'message', 'detail', 'reason']);

/**
 * A JSON.stringify replacer redacting free-text fields (`last_error`, `error`, `message`...)
 * or undefined when nothing is registered (a replacer slows large state documents down).
 * Structural fields (ids, references) are never secret values and stay as they are.
 */
export function messageRedactingReplacer(): ((key: string, value: unknown) => unknown) | undefined {
  if (redactor.size === 0) return undefined;
  return (key, value) => (typeof value === 'string' && MESSAGE_KEYS.has(key) ? redactor.redact(value) : value);
}
