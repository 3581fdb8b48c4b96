/**
 * `secrets_as_files`: secret env values leave the container's `Env` (which `docker inspect`
 * shows to anyone with API access) and become files on a tmpfs at `secrets_dir`, with
 * `NAME_FILE=<dir>/NAME` in `Env` (the common `*_FILE` convention). docs/secrets.md, "docker".
 *
 * A value is a secret when it holds something resolved from an `${env:}`, `${file:}` or
 * `${secret:}` reference: exactly what the redactor was given when the reference was resolved
 * (values under 4 characters are not registered there, so they stay in `Env`).
 */
import { posix } from 'node:path';
import { ProviderError } from '../../model/errors.js';
import { redact } from '../../model/redact.js';

export interface SecretSplit {
  /** What goes into the container's `Env`. */
  env: Record<string, string>;
  /** File name (the variable's name) to content. */
  files: Record<string, string>;
}

const FILE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Bytes of a name a ustar header holds; a longer one travels in a pax header. */
const USTAR_NAME_BYTES = 100;

export function isSecretValue(value: string): boolean {
  return redact(value) !== value;
}

/** Moves every secret value of `env` to a file, leaving `NAME_FILE` in its place. */
export function splitSecrets(env: Record<string, string>, dir: string): SecretSplit {
  const out: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isSecretValue(value)) {
      out[name] = value;
      continue;
    }
    if (!FILE_NAME.test(name) || name === '.' || name === '..') {
      throw new ProviderError(
        `artifact.env variable "${name}" holds a secret but is no valid file name for secrets_as_files`,
      );
    }
    files[name] = value;
    out[`${name}_FILE`] = posix.join(dir, name);
  }
  return { env: out, files };
}

/** A ustar header block: `type` '0' is a regular file, 'x' a pax extended header for the next one. */
function header(name: string, size: number, mode: number, type: '0' | 'x' = '0'): Buffer {
  const h = Buffer.alloc(512, 0);
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid root
  h.write(octal(0, 8), 116, 'ascii'); // gid root
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, so nothing about when it was written leaks
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** The header's 100-byte name field is only the name's first bytes: cut on a character boundary. */
function headerName(name: string): string {
  let cut = name;
  while (Buffer.byteLength(cut) > USTAR_NAME_BYTES) cut = cut.slice(0, -1);
  return cut;
}

/** A pax `path` record (`LEN path=NAME\n`, LEN counting the whole record, its own digits included). */
function paxPathRecord(name: string): Buffer {
  const rest = ` path=${name}\n`;
  let len = Buffer.byteLength(rest);
  while (Buffer.byteLength(`${len}${rest}`) !== len) len = Buffer.byteLength(`${len}${rest}`);
  return Buffer.from(`${len}${rest}`, 'utf8');
}

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512, 0);

/**
 * A ustar archive of the files (mode 0400, owner root), for PUT /containers/ID/archive. A name
 * longer than the header's 100 bytes is carried by a pax extended header before its entry
 * (POSIX pax format, which the engines' archive readers follow), so any file name the
 * filesystem takes (up to NAME_MAX) arrives whole.
 */
export function secretsTar(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    if (Buffer.byteLength(name) > USTAR_NAME_BYTES) {
      const record = paxPathRecord(name);
      parts.push(header(`PaxHeaders/${headerName(name)}`.slice(0, 99), record.length, 0o644, 'x'), record);
      parts.push(padding(record.length));
    }
    const body = Buffer.from(content, 'utf8');
    parts.push(header(headerName(name), body.length, 0o400), body, padding(body.length));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}
