/**
 * `bp promote REVISION_ID --from STAGING_FILE --to PROD_FILE`: copies a revision proven in
 * staging into the prod file. The gate reads staging's recorded state under its lock (see
 * src/plan/promotion.ts); the definition copied is the one staging recorded when it staged the
 * revision (what really ran: variables substituted, secret references kept as references), so a
 * staging file edited since cannot smuggle in something untested. The prod file is edited like
 * `bp revision add` (comments kept, validated, atomic write, unified diff), and the promotion is
 * appended to staging's history, with the overridden reasons when `--force` was given.
 */
import { loadDesired } from '../../apply/desired.js';
import { lockEnvironment } from '../../apply/engine.js';
import type { Revision } from '../../model/environment.js';
import { BpError, UsageError } from '../../model/errors.js';
import { applyMutation, type RecordedState } from '../../model/state.js';
import { historyEntry } from '../../plan/history.js';
import { promotionGate } from '../../plan/promotion.js';
import { appendRevisionText } from '../../spec/edit/edits.js';
import { durationFlagMs, engineContext, historyOptions, type CommonFlags } from '../context.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import { editFile } from './edit.js';

export interface PromoteFlags extends CommonFlags, SourceFlags {
  from: string;
  to: string;
  weight?: number;
  'min-soak': string;
  force: boolean;
  'dry-run'?: boolean;
  'lock-timeout': string;
  'history-limit'?: number;
}

export async function promoteCommand(revisionId: string, flags: PromoteFlags): Promise<number> {
  const staging = await loadDesired(flags.from, await loadOptionsFrom(flags));
  const envId = staging.env.environment_id;
  // The file may not name the revision (a pipeline's fresh checkout): its recorded state does.
  const inFile = staging.env.deployments.find((d) => d.revisions.some((r) => r.revision_id === revisionId));
  const declared = inFile?.revisions.find((r) => r.revision_id === revisionId) ?? null;
  const minSoakMs = durationFlagMs(flags['min-soak'], 'min-soak');
  const ctx = await engineContext(flags, () => undefined);
  try {
    const session = await lockEnvironment(ctx, envId, {
      operation: 'promote',
      lockTimeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
    });
    try {
      const state = session.state;
      const deploymentId = state?.revisions[revisionId]?.deployment_id ?? inFile?.deployment_id;
      if (deploymentId === undefined)
        throw new UsageError(
          `neither ${flags.from} nor the recorded state of "${envId}" has a revision "${revisionId}"`,
        );
      const gate = promotionGate(state, envId, deploymentId, revisionId, minSoakMs, ctx.clock());
      if (gate.reasons.length > 0 && !flags.force) {
        throw new BpError(
          'Usage',
          `refusing to promote ${revisionId} from "${envId}" to ${flags.to}: ${gate.reasons.join('; ')} ` +
            `(--force overrides this, and is recorded in "${envId}"'s history)`,
        );
      }
      if (!state) {
        throw new BpError(
          'Usage',
          `refusing to promote ${revisionId}: environment "${envId}" has no recorded state, so even --force could not be recorded in its history; apply it first`,
        );
      }
      const definition = recordedDefinition(state, revisionId) ?? (declared && copyable(declared));
      if (!definition)
        throw new UsageError(`"${envId}" never staged ${revisionId} and ${flags.from} does not define it`);
      const code = await editFile(flags.to, flags, (text) =>
        appendRevisionText(text, flags.to, deploymentId, definition, flags.weight),
      );
      if (flags['dry-run']) return code;
      const forced = gate.reasons.length > 0 ? `; forced past: ${gate.reasons.join('; ')}` : '';
      const history = historyOptions(flags, 'promote');
      const next = structuredClone(state);
      const entry = historyEntry({
        state: next,
        operation: 'promote',
        actor: history.actor,
        at: ctx.clock(),
        plan: null,
        planDigest: null,
        counts: null,
        deployments: [deploymentId],
        note: `promoted ${revisionId} to ${flags.to}${flags.weight !== undefined ? ` at ${flags.weight / 100}%` : ''}${forced}`,
      });
      await session.begin(next);
      const m = { kind: 'history' as const, entry, limit: history.limit };
      await session.record([m]);
      applyMutation(next, m);
      next.serial += 1;
      next.updated_at = ctx.clock().toISOString();
      await session.checkpoint(next);
      process.stdout.write(
        forced
          ? `Promoted ${revisionId} to ${flags.to} with --force (recorded in "${envId}" history #${entry.id}): ${gate.reasons.join('; ')}\n`
          : `Promoted ${revisionId} to ${flags.to}: ready in "${envId}" and carrying traffic since ${gate.soakingSince} (history #${entry.id}).\n`,
      );
      return code;
    } finally {
      await session.release();
    }
  } finally {
    await ctx.backend.close();
  }
}

/** The definition staging recorded when it staged the revision (what ran), if it did. */
function recordedDefinition(
  state: RecordedState,
  revisionId: string,
): (Record<string, unknown> & { revision_id: string }) | null {
  const r = state.revisions[revisionId];
  if (!r?.spec) return null;
  return copyable({
    revision_id: revisionId,
    artifact: structuredClone(r.spec.artifact),
    resources: { ...r.spec.resources },
    health: { ...r.spec.health },
    drain_seconds: r.drain_seconds,
    ttl: null,
    state: 'ready',
  });
}

/** A revision as it goes into another file: no `state` or `ttl` (the prod file decides), no empty env. */
function copyable(r: Revision): Record<string, unknown> & { revision_id: string } {
  const artifact: Record<string, unknown> = { ...r.artifact };
  if (Object.keys(r.artifact.env ?? {}).length === 0) delete artifact.env;
  return {
    revision_id: r.revision_id,
    artifact,
    resources: { ...r.resources },
    health: { ...r.health },
    drain_seconds: r.drain_seconds,
  };
}
