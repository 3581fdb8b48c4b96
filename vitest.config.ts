import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The shared test plugins (test/fixtures/*.mjs) live outside the temporary folders tests
    // write env files to: the operator's BP_TRUSTED_PLUGIN_DIRS trusts them (docs/security.md).
    env: { BP_TRUSTED_PLUGIN_DIRS: fileURLToPath(new URL('./test/fixtures', import.meta.url)) },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Many tests start real processes and servers; two workers match the two cores here.
    maxWorkers: 2,
  },
});
