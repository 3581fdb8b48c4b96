/** What a deployer says about itself must be true: runtime config and the shape of its errors. */
import { projectRuntimeConfig } from '../../model/runtime-config.js';
import { errorCode } from '../../model/errors.js';
import { ownMessage } from '../assertions.js';
import { CheckFailure, CheckSkip, describeError, sameValue } from '../verdict.js';
import { entries, type Check } from './check.js';

export const runtimeConfig: Check = {
  name: 'runtime-config',
  summary: 'reportRuntimeConfig, when the deployer has it, equals the pure projection of recorded state',
  async run(h) {
    const report = h.deployer.reportRuntimeConfig?.bind(h.deployer);
    if (!report) throw new CheckSkip('the deployer has no reportRuntimeConfig; bp uses the pure projection');
    const { a, b, a1, a2, b1 } = h.ids;
    await h.stageAndWarm(a1, a2, b1);
    await h.split(a, entries([a1, 7000], [a2, 3000]));
    await h.split(b, entries([b1, 10000]));
    const expected = projectRuntimeConfig(h.recordedState());
    let observed: unknown;
    try {
      observed = await h.bounded('reportRuntimeConfig', () => report(h.copyEnv()));
    } catch (e) {
      if (e instanceof CheckFailure) throw e;
      throw new CheckFailure(`reportRuntimeConfig rejected: ${describeError(e)}`, expected, describeError(e));
    }
    // bp reads environment_id and revisions; the format marker may be the older `schema` key.
    const { format_version: _f, schema: _s, ...reported } = (observed ?? {}) as Record<string, unknown>;
    const { format_version: _e, ...wanted } = expected;
    if (!sameValue(wanted, reported)) {
      throw new CheckFailure('reportRuntimeConfig differs from the projection of recorded state', expected, observed);
    }
  },
};

export const errorShape: Check = {
  name: 'error-shape',
  summary: 'a provider failure carries code "Provider", a boolean retryable and a message',
  async run(h) {
    const id = h.ids.cBroken;
    const staged = await h.tryRun('stage', id);
    const warmed = staged.ok ? await h.tryRun('warm', id) : null;
    const failure = !staged.ok
      ? { verb: 'stage', error: staged.error }
      : warmed && !warmed.ok
        ? { verb: 'warm', error: warmed.error }
        : null;
    const artifact = JSON.stringify(
      h.revision(id).artifact.command ?? h.revision(id).artifact.image ?? h.revision(id).artifact.binary,
    );
    if (!failure) {
      throw new CheckFailure(
        `revision ${id}, whose artifact ${artifact} cannot run, was staged and warmed without an error`,
        'a Provider error',
        'both resolved',
      );
    }
    const e = failure.error as { retryable?: unknown };
    const shape = { code: errorCode(e) ?? null, retryable: typeof e?.retryable, message: ownMessage(e).trim() !== '' };
    const want = { code: 'Provider', retryable: 'boolean', message: true };
    if (!sameValue(shape, want)) {
      throw new CheckFailure(`${failure.verb} ${id} failed with a malformed error: ${describeError(e)}`, want, shape);
    }
  },
};
