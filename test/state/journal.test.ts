import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError } from '../../src/model/errors.js';
import { JOURNAL_FORMAT, JournalWriter, parseJournal, type JournalHeader } from '../../src/state/journal.js';
import { pendingStart } from './builders.js';

const HEADER: JournalHeader = { format_version: JOURNAL_FORMAT, environment_id: 'demo', lineage: 'L', serial: 3 };
const corrupt = (line: number, problem: string): StateCorruptError => new StateCorruptError(`line ${line}: ${problem}`);

describe('parseJournal', () => {
  const text = [JSON.stringify(HEADER), JSON.stringify({ mutations: [pendingStart('a')] }), ''].join('\n');

  it('reads the header and one batch per line', () => {
    expect(parseJournal(text, corrupt)).toEqual({ header: HEADER, batches: [[pendingStart('a')]], tornTail: false });
  });

  it('drops an unterminated last line as torn, whatever it contains', () => {
    for (const tail of ['{"mutations":[', '{"mutations":[]}', 'x']) {
      const parsed = parseJournal(text + tail, corrupt)!;
      expect(parsed.tornTail).toBe(true);
      expect(parsed.batches).toHaveLength(1);
    }
  });

  it('treats an empty file as no journal', () => {
    expect(parseJournal('', corrupt)).toBeNull();
  });

  it('names the line of a bad entry', () => {
    expect(() => parseJournal(text + '{"mutations":{}}\n' + '{"mutations":[]}\n', corrupt)).toThrow('line 3:');
  });
});

describe('JournalWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bp-journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('shares one fsync among appends made while another is in flight, preserving call order', async () => {
    let syncs = 0;
    const path = join(dir, 'journal.ndjson');
    const w = await JournalWriter.create(path, HEADER, () => syncs++);
    syncs = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => w.append([pendingStart(`s${i}`)]).then(() => order.push(i))),
    );
    expect(syncs).toBeLessThanOrEqual(2);
    await w.close();
    const parsed = parseJournal(await readFile(path, 'utf8'), corrupt)!;
    expect(parsed.batches.map((b) => (b[0] as { op: { step_id: string } }).op.step_id)).toEqual(
      Array.from({ length: 50 }, (_, i) => `s${i}`),
    );
    expect(order).toHaveLength(50);
  });

  it('refuses appends after close', async () => {
    const w = await JournalWriter.create(join(dir, 'j'), HEADER, () => undefined);
    await w.close();
    await expect(w.append([pendingStart('late')])).rejects.toThrow(/closed/);
  });
});
