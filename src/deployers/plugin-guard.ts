/**
 * Contains deployer plugins' faults inside the bp process. A plugin that calls process.exit,
 * lets a promise reject unhandled or throws from a timer once made bp exit 0 with nothing
 * deployed (lock left behind) or die with a raw stack; one that left a timer running kept bp
 * alive after `Apply failed`. Once any plugin is loaded:
 * - process.exit from anywhere but bp itself throws a PluginFaultError instead (the plugin's
 *   call fails; bp goes on to record the failure and release its lock);
 * - an unhandled rejection or uncaught exception is a fault: one sentence on stderr, the
 *   steps in flight fail (raceFaults), and the run's exit code is at least 1;
 * - endRun() (called by bin/bp when the command is over) exits even with handles left open.
 */
import { messageOf, PluginFaultError } from '../model/errors.js';

const realExit = process.exit.bind(process);
let armed = false;
let installed = false;
const seen: PluginFaultError[] = [];
const listeners = new Set<(fault: PluginFaultError) => void>();

function record(fault: PluginFaultError): void {
  seen.push(fault);
  process.stderr.write(`Error: ${fault.message}\n`);
  if (!process.exitCode) process.exitCode = 1;
  for (const l of listeners) l(fault);
}

/**
 * Called by bin/bp as it starts: only the CLI process takes over process.exit and the global
 * error handlers (a library user, or a test runner, keeps its own).
 */
export function armPluginGuard(): void {
  armed = true;
}

/** Called when a plugin is loaded; does nothing unless the CLI armed the guard. */
export function installPluginGuard(): void {
  if (installed || !armed) return;
  installed = true;
  process.exit = ((code?: number | string | null) => {
    const fault = new PluginFaultError(
      `a deployer plugin called process.exit(${code ?? ''}); plugins may not end bp's run (the step fails instead)`,
    );
    record(fault);
    throw fault;
  }) as typeof process.exit;
  process.on('unhandledRejection', (reason) => {
    record(new PluginFaultError(`a deployer plugin left a promise rejected with no handler: ${messageOf(reason)}`));
  });
  process.on('uncaughtException', (e) => {
    // Our own process.exit refusal, thrown from a plugin's timer, is already recorded.
    if (e instanceof PluginFaultError && seen.includes(e)) return;
    record(new PluginFaultError(`a deployer plugin threw outside any call: ${messageOf(e)}`));
  });
  process.on('exit', () => {
    if (seen.length > 0 && !process.exitCode) process.exitCode = 1;
  });
}

export function pluginGuardInstalled(): boolean {
  return installed;
}

export function faultsSeen(): readonly PluginFaultError[] {
  return seen;
}

/** Runs `fn`; rejects as soon as a plugin fault is recorded while it is in flight. */
export async function raceFaults<T>(fn: () => Promise<T>): Promise<T> {
  if (!installed) return fn();
  let onFault: (f: PluginFaultError) => void = () => undefined;
  const faulted = new Promise<never>((_, reject) => (onFault = reject));
  listeners.add(onFault);
  try {
    return await Promise.race([fn(), faulted]);
  } finally {
    listeners.delete(onFault);
  }
}

/** bp's own way out (a second Ctrl-C, for instance): never refused. */
export function exitNow(code: number): never {
  return realExit(code);
}

/**
 * The command is over: exit with its code once stdout and stderr are flushed, whatever
 * timers or sockets a plugin left open. Does nothing when no plugin was loaded.
 */
export function endRun(): void {
  if (!installed) return;
  const code = typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0) || 0;
  process.stdout.write('', () => process.stderr.write('', () => realExit(code)));
}
