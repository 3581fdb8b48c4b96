/**
 * `bp conformance docker` through the real CLI (bin/bp, compiled dist/), against a real
 * engine: podman's Docker API in a private temp dir, with the busybox test image as the
 * fixture artifact. The bench runs in host network mode: every check starts and removes
 * containers, and bridge mode's CNI setup and teardown roughly double the run time here
 * (it passes too: see docs/deployers/docker.md); docker.test.ts covers bridge mode.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNames } from '../../src/conformance/index.js';
import { buildTestImage, type PodmanEngine, startPodman } from '../deployers/docker/podman.js';
import { bp } from '../helpers/cli.js';

interface JsonReport {
  format_version: string;
  checks: Array<{ name: string; status: string; message?: string }>;
  leaks: string[];
}

describe("bp conformance docker, against podman's Docker API", () => {
  let engine: PodmanEngine;
  let image: string;

  beforeAll(async () => {
    engine = await startPodman();
    image = await buildTestImage(engine);
  });

  afterAll(async () => {
    await engine?.stop();
  });

  it('passes every check with real containers and leaves nothing on the engine', async () => {
    const config = join(engine.dir, 'docker.yaml');
    writeFileSync(
      config,
      `socket_path: ${engine.socketPath}\nnetwork_mode: host\nhealth_check_interval_ms: 200\nkill_grace_seconds: 2\n`,
    );
    const r = await bp(['conformance', 'docker', '--config', config, '--fixture-image', image, '--json'], {
      cwd: engine.dir,
      env: { BP_STATE_DIR: join(engine.dir, 'bp-state') },
    });
    const report = JSON.parse(r.stdout) as JsonReport;
    const failed = report.checks.filter((c) => c.status === 'fail');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(report.leaks).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(r.code).toBe(0);
    expect(await engine.podman('ps', '--all', '--quiet')).toBe('');
  }, 300_000);
});
