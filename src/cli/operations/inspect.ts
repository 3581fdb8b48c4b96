/** Read-only commands: graph, state list/show/unlock, runtime-config. */
import { loadDesired } from '../../apply/desired.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import { planEnvironment } from '../../apply/engine.js';
import { readRuntimeConfig } from '../../apply/runtime-config.js';
import { hostname } from 'node:os';
import { escapeControls, jsonSafe } from '../../model/escape.js';
import { BpError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';
import { holderMayBeAlive } from '../../state/process-liveness.js';
import type { Plan } from '../../model/plan.js';
import { readPlanFile } from './plan-file.js';
import { engineContext, stateDirFrom, type CommonFlags } from '../context.js';
import { renderDot } from '../views/plan-view.js';
import { renderStateSummary } from '../views/state-view.js';

export async function graphCommand(
  file: string,
  flags: CommonFlags & SourceFlags & { target?: string[]; refresh: string },
): Promise<number> {
  let plan: Plan | null = (await readPlanFile(file))?.plan ?? null;
  if (!plan) {
    const desired = await loadDesired(file, await loadOptionsFrom(flags));
    const ctx = await engineContext(flags, () => undefined);
    try {
      plan = (
        await planEnvironment(ctx, {
          desired: desired.env,
          baseDir: desired.baseDir,
          targets: flags.target,
          refresh: flags.refresh !== 'false',
        })
      ).plan;
    } finally {
      await ctx.backend.close();
    }
  }
  process.stdout.write(renderDot(plan));
  return 0;
}

async function withBackend<T>(
  flags: CommonFlags,
  fn: (ctx: Awaited<ReturnType<typeof engineContext>>) => Promise<T>,
): Promise<T> {
  const ctx = await engineContext(flags, () => undefined);
  try {
    return await fn(ctx);
  } finally {
    await ctx.backend.close();
  }
}

export function stateListCommand(flags: CommonFlags & { json: boolean }): Promise<number> {
  return withBackend(flags, async (ctx) => {
    const ids = await ctx.backend.list();
    if (flags.json) {
      const rows = [];
      for (const id of ids) {
        const s = await ctx.backend.load(id);
        rows.push({
          environment_id: id,
          lineage: s?.lineage ?? null,
          serial: s?.serial ?? 0,
          updated_at: s?.updated_at ?? null,
        });
      }
      process.stdout.write(
        jsonSafe(JSON.stringify({ format_version: OUTPUT_FORMATS.state_list, environments: rows }, null, 2)) + '\n',
      );
    } else if (ids.length === 0) {
      process.stdout.write(`No recorded environments in ${ctx.backend.description}.\n`);
    } else {
      process.stdout.write(ids.map((id) => escapeControls(id, true)).join('\n') + '\n');
    }
    return 0;
  });
}

export function stateShowCommand(env: string, flags: CommonFlags & { json: boolean }): Promise<number> {
  return withBackend(flags, async (ctx) => {
    const state = await ctx.backend.load(env);
    if (!state) throw new BpError('Usage', `environment "${env}" has no recorded state in ${ctx.backend.description}`);
    const holder = await ctx.backend.lockHolder(env);
    // Recorded state is input too (a hand-edited or planted file): nothing in it reaches the terminal raw.
    if (flags.json) process.stdout.write(jsonSafe(JSON.stringify({ ...state, lock: holder }, null, 2)) + '\n');
    else process.stdout.write(escapeControls(renderStateSummary(state, holder)) + '\n');
    return 0;
  });
}

export function stateUnlockCommand(
  env: string,
  lockId: string,
  flags: CommonFlags & { force?: boolean },
): Promise<number> {
  return withBackend(flags, async (ctx) => {
    const holder = await ctx.backend.lockHolder(env);
    // Freeing a live holder's lock let two applies race (and leave unrecorded replicas running).
    // A pid now used by another process (different start time) is no live holder.
    if (holder && holder.id === lockId && holder.host === hostname() && holderMayBeAlive(holder) && !flags.force) {
      throw new BpError(
        'LockHeld',
        `lock ${lockId} of environment "${env}" is held by a live process on this host: ${holder.user}@${holder.host} ` +
          `pid ${holder.pid} (${holder.operation} since ${holder.created}); let it finish or stop it, ` +
          'or pass --force to release the lock anyway',
      );
    }
    await ctx.backend.forceUnlock(env, lockId);
    process.stdout.write(`Released lock ${lockId} of environment "${env}".\n`);
    return 0;
  });
}

export function runtimeConfigCommand(env: string, flags: CommonFlags): Promise<number> {
  return withBackend(flags, async (ctx) => {
    const state = await ctx.backend.load(env);
    if (!state) throw new BpError('Usage', `environment "${env}" has no recorded state in ${ctx.backend.description}`);
    const config = await readRuntimeConfig(stateDirFrom(flags), state);
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return 0;
  });
}
