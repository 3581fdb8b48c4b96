/**
 * Routes everything a bp process writes to stdout and stderr (messages, progress lines,
 * `--json`, oclif's own output, a plugin's console.log) through the one redactor, so a secret
 * value resolved anywhere in the process is never printed (src/model/redact.ts).
 */
import { redactor } from '../model/redact.js';

let installed = false;

export function installOutputRedaction(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (redactor.size > 0) {
        if (typeof chunk === 'string') chunk = redactor.redact(chunk);
        else if (chunk instanceof Uint8Array) chunk = redactor.redact(Buffer.from(chunk).toString('utf8'));
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
