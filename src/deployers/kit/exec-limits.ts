/**
 * What Linux's execve(2) refuses, for deployers whose revisions end up as a process started by
 * exec: docker (the container's `Env`), ssh (the remote command line and the revision's env),
 * local-process. The kernel copies every argument and environment string into the new
 * process and refuses (E2BIG, "Argument list too long") any single string longer than
 * MAX_ARG_STRLEN (32 pages: 131,072 bytes with its terminating NUL), whatever the stack limit;
 * a NUL byte cannot be passed at all (it ends the C string). Checked before the string is sent,
 * so the refusal names the env key instead of a replica that "exited at once".
 * Sources: execve(2), "Limits on size of arguments and environment"; docs/deployers/*.md, Limits.
 */
import { ProviderError } from '../../model/errors.js';

/** MAX_ARG_STRLEN (include/uapi/linux/binfmts.h: PAGE_SIZE * 32), counting the terminating NUL. */
export const MAX_ARG_STRLEN = 131_072;

/** The longest string exec passes: MAX_ARG_STRLEN less the NUL. */
export const MAX_EXEC_STRING_BYTES = MAX_ARG_STRLEN - 1;

/**
 * Throws for the first `NAME=value` of `env` that exec cannot pass: over 131,071 bytes, or
 * holding a NUL byte. The message names `env "NAME"` (the kit's `artifactPath` points there).
 */
export function checkExecEnv(revisionId: string, env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
    if (bytes > MAX_EXEC_STRING_BYTES) {
      throw new ProviderError(
        `revision "${revisionId}": env "${name}" is ${bytes} bytes as NAME=value; Linux refuses an environment string over ` +
          `${MAX_EXEC_STRING_BYTES} bytes at exec (MAX_ARG_STRLEN), so the process could never start: pass large values as a file`,
      );
    }
    if (value.includes('\0')) {
      throw new ProviderError(
        `revision "${revisionId}": env "${name}" contains a NUL byte, which no process environment can hold`,
      );
    }
  }
}

/**
 * Throws for the first word of `argv` (each one exec string) over 131,071 bytes. The message
 * names `artifact.command[i]`; `argvIndex` reads it back for the problem's path.
 */
export function checkExecArgv(revisionId: string, argv: readonly string[]): void {
  argv.forEach((word, i) => {
    const bytes = Buffer.byteLength(word);
    if (bytes > MAX_EXEC_STRING_BYTES) {
      throw new ProviderError(
        `revision "${revisionId}": artifact.command[${i}] is ${bytes} bytes; Linux refuses an argument over ` +
          `${MAX_EXEC_STRING_BYTES} bytes at exec (MAX_ARG_STRLEN), so the process could never start`,
      );
    }
  });
}

/** The argv index a `checkExecArgv` refusal names, if any. */
export function argvIndex(message: string): number | null {
  const m = /artifact\.command\[(\d+)\]/.exec(message);
  return m ? Number(m[1]) : null;
}
