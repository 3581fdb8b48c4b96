/**
 * oclif's command_not_found hook. oclif joins every word of an unknown command line into one id
 * (`bp aply env.yaml` -> `aply:env.yaml`), which no suggestion matches, so bp splits it back and
 * suggests the closest command itself. On a terminal, @oclif/plugin-not-found then asks "Did you
 * mean apply?" and runs it on yes; elsewhere (CI logs, scripts) one sentence names the suggestion.
 * Exit 127, as a shell does for an unknown command.
 */
import type { Hook } from '@oclif/core';
import { closestCommand } from '../suggest.js';

const hook: Hook.CommandNotFound = async function (opts) {
  const words = opts.id.split(':');
  const visible = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const match = closestCommand(words, visible);
  const typed = words.slice(0, match ? match.id.split(':').length : 1).join(' ');
  if (match && process.stdin.isTTY && process.stderr.isTTY) {
    const { default: notFound } = await import('@oclif/plugin-not-found');
    await notFound.call(this, { ...opts, id: words.slice(0, match.id.split(':').length).join(':'), argv: match.rest });
    return;
  }
  const bin = opts.config.bin;
  const suggestion = match ? ` Did you mean "${bin} ${match.id.replaceAll(':', ' ')}"?` : '';
  process.stderr.write(`Error: "${typed}" is not a ${bin} command.${suggestion} See "${bin} help" for the list.\n`);
  this.exit(127);
};

export default hook;
