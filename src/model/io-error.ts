/**
 * An I/O failure as one sentence naming the file and what bp was doing with it: "could not
 * write state file /x/.bp/envs/demo/state.json: no space left on device", never a bare ENOSPC.
 */
import { BpError } from './errors.js';
import { escapeControls } from './escape.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  EEXIST: 'file already exists',
};

/** The reason of an errno error in words ("no space left on device"), else its message. */
export function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code && Object.hasOwn(REASONS, code)) return REASONS[code];
  return e instanceof Error ? e.message : String(e);
}

export class IoError extends BpError {
  readonly path: string;
  readonly operation: string;
  constructor(operation: string, path: string, cause: unknown) {
    super('Io', `could not ${operation} ${escapeControls(path)}: ${ioReason(cause)}`, {
      cause,
      // A full disk or a lost mount may clear; the caller decides whether to retry.
      retryable: false,
    });
    this.path = path;
    this.operation = operation;
  }
}

/** Runs `fn`; an errno failure becomes an IoError naming `operation` and `path`. BpErrors pass through. */
export async function withIo<T>(operation: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asIoError(operation, path, e);
  }
}

export function asIoError(operation: string, path: string, e: unknown): unknown {
  if (BpError.is(e)) return e;
  if (typeof (e as NodeJS.ErrnoException | null)?.code === 'string') return new IoError(operation, path, e);
  return e;
}
