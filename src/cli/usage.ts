/** Command-line mistakes (oclif parse errors) as one complete sentence plus the usage line. */

interface ArgLike {
  name: string;
  description?: string;
}

/** oclif's RequiredArgsError, recognised by shape (its class lives in oclif's internals). */
function missingArgs(err: unknown): ArgLike[] | null {
  const e = err as { args?: unknown; message?: unknown; oclif?: unknown };
  if (!e || !e.oclif || !Array.isArray(e.args) || typeof e.message !== 'string') return null;
  return e.message.startsWith('Missing ') ? (e.args as ArgLike[]) : null;
}

/**
 * `bp plan` -> "Error: bp plan needs FILE (env file (YAML)).\nUsage: bp plan FILE [flags]; see bp plan --help".
 * Null for anything that is not a missing argument (oclif's own sentences are complete there).
 */
export function usageErrorMessage(err: unknown, command: { bin: string; id: string; args: ArgLike[] }): string | null {
  const missing = missingArgs(err);
  if (!missing) return null;
  const cmd = `${command.bin} ${command.id.replaceAll(':', ' ')}`;
  const named = missing.map((a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description})` : ''}`);
  const usage = command.args.map((a) => a.name.toUpperCase()).join(' ');
  return (
    `Error: ${cmd} needs ${named.join(' and ')}.\n` +
    `Usage: ${cmd}${usage ? ` ${usage}` : ''} [flags]; see ${cmd} --help`
  );
}
