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

function header(name: string, size: number, mode: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid root
  h.write(octal(0, 8), 116, 'ascii'); // gid root
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, so nothing about when it was written leaks
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** A ustar archive of the files (mode 0400, owner root), for PUT /containers/ID/archive. */
export function secretsTar(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.from(content, 'utf8');
    parts.push(header(name, body.length, 0o400), body, Buffer.alloc((512 - (body.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}
