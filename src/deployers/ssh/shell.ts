/**
 * The one way remote commands are composed. Every remote command is a constant POSIX sh
 * script plus arguments, and every argument goes through `shellQuote`: nothing the user
 * wrote (ids, paths, env values) is ever spliced into a command unquoted. Env values do not
 * travel in argv at all (argv is world-readable in /proc): they go on the channel's stdin as
 * an `envScript`, itself composed with `shellQuote`, and the remote script `eval`s it.
 */
import { ProviderError } from '../../model/errors.js';
import { MAX_EXEC_STRING_BYTES } from '../kit/exec-limits.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes one word for a POSIX shell: single quotes, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    throw new ProviderError('a remote command argument contains a NUL byte, which no shell can pass', {
      retryable: false,
    });
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** argv as one command line: every word quoted, so the remote shell sees exactly these words. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new ProviderError('an empty remote command was requested');
  return argv.map(shellQuote).join(' ');
}

/**
 * Runs a constant `script` under `sh -c` with `args` as its positional parameters ($1...).
 * The login shell of the remote user only parses quoted words; `sh` runs the script.
 * sshd hands the whole command line to that shell as one argument (`$SHELL -c COMMAND`), and
 * Linux refuses an argument over 131,071 bytes: such a command is refused here, never sent.
 */
export function scriptCommand(script: string, args: readonly string[] = [], what = 'a remote command'): string {
  const command = shellCommand(['sh', '-c', script, 'bp-ssh', ...args]);
  const bytes = Buffer.byteLength(command);
  if (bytes > MAX_EXEC_STRING_BYTES) {
    throw new ProviderError(
      `${what}: the command line would be ${bytes} bytes; sshd runs it as one argument of the login shell, and Linux ` +
        `refuses an argument over ${MAX_EXEC_STRING_BYTES} bytes (MAX_ARG_STRLEN): shorten artifact.command`,
      { retryable: false },
    );
  }
  return command;
}

/** `export NAME='value'` lines for the remote script to `eval` from stdin. */
export function envScript(env: Record<string, string>): string {
  let text = '';
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new ProviderError(`environment variable name ${JSON.stringify(name)} is not a valid shell name`, {
        retryable: false,
      });
    }
    text += `export ${name}=${shellQuote(String(value))}\n`;
  }
  return text;
}
