/**
 * Reads an input file (env file, saved plan) with bounded memory: at most `maxBytes`, and
 * only text. `bp validate /dev/urandom` once grew to 1.1 GB before failing unclearly; now a
 * binary file fails at its first NUL byte or invalid UTF-8 sequence, an endless or huge one
 * at the size bound, each with a sentence naming the file.
 */
import { open } from 'node:fs/promises';
import { BpError } from '../model/errors.js';

/** Large enough for environments with thousands of deployments; small enough to hold in memory. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

function readError(path: string, e: unknown): BpError {
  const code = (e as NodeJS.ErrnoException).code;
  // Node's message repeats the path and syscall ("ENOENT: no such file or directory, open 'x'").
  const reason = e instanceof Error ? e.message.replace(/, \w+ '.*'$/, '') : String(e);
  return new BpError(
    'InvalidInput',
    `cannot read ${path}: ${code && !reason.startsWith(code) ? `${code}: ` : ''}${reason}`,
    {
      cause: e,
    },
  );
}

/** `what` names the kind of file in messages: "an environment file", "a saved plan". */
export async function readBoundedText(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw readError(path, e);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parts: string[] = [];
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let total = 0;
  try {
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, 0, CHUNK_BYTES, null));
      } catch (e) {
        throw readError(path, e);
      }
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        throw new BpError('InvalidInput', `${path} is not ${what}: it is binary (a NUL byte at offset ${total + nul})`);
      }
      total += n;
      if (total > maxBytes) {
        throw new BpError(
          'InvalidInput',
          `${path} is larger than ${maxBytes / (1024 * 1024)} MiB, the limit for ${what}`,
        );
      }
      try {
        parts.push(decoder.decode(chunk, { stream: true }));
      } catch {
        throw new BpError(
          'InvalidInput',
          `${path} is not ${what}: it is not UTF-8 text (an invalid byte sequence near offset ${total - n})`,
        );
      }
    }
    try {
      parts.push(decoder.decode());
    } catch {
      throw new BpError('InvalidInput', `${path} is not ${what}: it ends inside a UTF-8 sequence`);
    }
  } finally {
    await handle.close();
  }
  return parts.join('');
}
