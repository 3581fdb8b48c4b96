/**
 * Archive is teardown that must always be safe to call: on a revision never staged, staged but
 * never warmed, recorded as archived already, or archived a moment ago. Afterwards `observe`
 * shows nothing for it: anything still there is a leaked resource someone pays for.
 */
import { expectStatus } from '../assertions.js';
import type { Harness } from '../harness.js';
import { Findings } from '../verdict.js';
import type { Check } from './check.js';

async function archivedAndGone(h: Harness, id: string, when: string): Promise<void> {
  await h.archive(id);
  expectStatus(await h.observe(), id, 'absent', when);
}

export const archiveClean: Check = {
  name: 'archive-clean',
  summary: 'archive succeeds on never-warmed and already-archived revisions and leaves nothing observed',
  async run(h) {
    const { a0, a1, a2, a3 } = h.ids;
    const f = new Findings();
    await f.run('never staged', () => archivedAndGone(h, a3, `after archive of never-staged ${a3}`));
    await f.run('recorded as archived', () => archivedAndGone(h, a0, `after archive of already-archived ${a0}`));
    await f.run('staged, never warmed', async () => {
      await h.stage(a2);
      await archivedAndGone(h, a2, `after archive of never-warmed ${a2}`);
    });
    await f.run('warmed, archived twice', async () => {
      await h.stageAndWarm(a1);
      await archivedAndGone(h, a1, `after archive of ${a1}`);
      await archivedAndGone(h, a1, `after archiving ${a1} again`);
    });
    f.throwIfAny();
  },
};
