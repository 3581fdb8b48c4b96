/**
 * The journal: mutations recorded since the last snapshot, one NDJSON line per `record`
 * call (so a call's mutations land together or not at all). The first line is a header
 * naming the lineage and serial the lines belong to:
 *
 *   {"format_version":"bp.journal/v1","environment_id":"demo","lineage":"…","serial":4}
 *   {"mutations":[{"kind":"pending",…}]}
 *
 * Appends are group-committed: calls that arrive while an fsync is in flight are written
 * together and share the next fsync. Each promise resolves only once its line is durable.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { BpError, type StateCorruptError } from '../model/errors.js';
import { MUTATION_KINDS, type Mutation } from '../model/state.js';
import { messageRedactingReplacer } from '../model/redact.js';
import { writeFileDurable } from './durable.js';
import { IoError, withIo } from '../model/io-error.js';

export const JOURNAL_FORMAT = 'bp.journal/v1' as const;

export interface JournalHeader {
  format_version: typeof JOURNAL_FORMAT;
  environment_id: string;
  lineage: string;
  serial: number;
}

export interface ParsedJournal {
  header: JournalHeader;
  /** One entry per acknowledged-or-possibly-acknowledged `record` call, in order. */
  batches: Mutation[][];
  /** True when the last line was cut short (a writer died mid-append); it was never acknowledged. */
  tornTail: boolean;
}

interface Waiter {
  line: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class JournalWriter {
  private queue: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly onSync: () => void,
  ) {}

  /** Replaces any journal at `path` with a fresh one holding only `header`. */
  static async create(path: string, header: JournalHeader, onSync: () => void): Promise<JournalWriter> {
    await writeFileDurable(path, JSON.stringify(header) + '\n', { onSync, what: 'state journal' });
    const fh = await withIo('open state journal', path, () => open(path, 'a', 0o600));
    return new JournalWriter(path, fh, onSync);
  }

  append(mutations: readonly Mutation[]): Promise<void> {
    if (this.closed) return Promise.reject(new BpError('Internal', `journal ${this.path} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    const line = JSON.stringify({ mutations }, messageRedactingReplacer()) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      // Defer the flush by a microtask so calls made in the same tick share the first fsync too.
      if (!this.flushing) this.flushing = Promise.resolve().then(() => this.drain());
    });
  }

  /** Resolves once everything appended so far is durable (or has failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    await this.fh.close();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        await writeAll(this.fh, Buffer.from(batch.map((w) => w.line).join(''), 'utf8'));
        await this.fh.datasync();
        this.onSync();
      } catch (e) {
        // After a failed write the file's tail is unknown; refuse further appends rather than
        // acknowledge lines that might follow a gap.
        this.failure = new IoError('write state journal', this.path, e);
        for (const w of [...batch, ...this.queue.splice(0)]) w.reject(this.failure);
      }
      if (this.failure) break;
      for (const w of batch) w.resolve();
    }
    this.flushing = null;
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/** Parses journal text. `corrupt` builds the error for a bad line (it knows where backups are). */
export function parseJournal(
  text: string,
  corrupt: (line: number, problem: string) => StateCorruptError,
): ParsedJournal | null {
  const lines = text.split('\n');
  // Every complete line ends in '\n'; whatever follows the last one is a torn append.
  const tail = lines.pop() ?? '';
  const tornTail = tail.length > 0;
  if (lines.length === 0) return null;
  const header = parseHeader(lines[0], (p) => corrupt(1, p));
  const batches: Mutation[][] = [];
  for (let i = 1; i < lines.length; i++) {
    batches.push(parseBatch(lines[i], (p) => corrupt(i + 1, p)));
  }
  return { header, batches, tornTail };
}

function parseHeader(line: string, corrupt: (problem: string) => StateCorruptError): JournalHeader {
  const v = parseJson(line, corrupt) as Partial<JournalHeader>;
  if (v.format_version !== JOURNAL_FORMAT) {
    throw corrupt(
      `unsupported journal format_version ${JSON.stringify(v.format_version)} (expected ${JOURNAL_FORMAT})`,
    );
  }
  if (typeof v.lineage !== 'string' || typeof v.serial !== 'number' || typeof v.environment_id !== 'string') {
    throw corrupt('journal header lacks environment_id, lineage or serial');
  }
  return v as JournalHeader;
}

function parseBatch(line: string, corrupt: (problem: string) => StateCorruptError): Mutation[] {
  const v = parseJson(line, corrupt) as { mutations?: unknown };
  if (!Array.isArray(v.mutations)) throw corrupt('journal entry has no "mutations" array');
  for (const m of v.mutations) {
    const kind = (m as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !MUTATION_KINDS.has(kind)) {
      throw corrupt(`unknown mutation kind ${JSON.stringify(kind)}`);
    }
  }
  return v.mutations as Mutation[];
}

function parseJson(line: string, corrupt: (problem: string) => StateCorruptError): unknown {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw corrupt(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt('expected a JSON object');
  return v;
}
