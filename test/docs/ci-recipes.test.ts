/**
 * docs/ci.md cannot rot: its env files are written from the document, and every `run:` step of
 * the GitHub Actions recipe and every `script:` line of the GitLab CI recipe runs, in order, as
 * the CI system would run it (bash -eo pipefail, the system's variables set), against
 * local-process in a temporary directory. Only steps named "Install bp" are left out: bin/bp is
 * on PATH instead. Jobs share one state directory, as they share BP_BACKEND in real pipelines;
 * the prod job runs an hour later on the injected clock (BP_NOW), standing in for the
 * environment's wait timer that covers --min-soak.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BP, bp, ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');

/** Fenced ```yaml blocks, keyed by the path in their first-line comment (`# envs/prod.yaml`). */
function yamlBlocks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/```yaml\n# (\S+)\n([\s\S]*?)```/g)) out.set(m[1], m[2]);
  return out;
}

interface Job {
  name: string;
  scripts: string[];
}

function githubJobs(text: string): Job[] {
  const wf = parse(text) as {
    jobs: Record<string, { needs?: string | string[]; steps: Array<Record<string, unknown>> }>;
  };
  const names = Object.keys(wf.jobs);
  // Jobs run in `needs` order; the document lists them that way (checked, not assumed).
  names.forEach((name, i) => {
    const needs = [wf.jobs[name].needs ?? []].flat();
    for (const n of needs) expect(names.indexOf(n), `${name} needs ${n}`).toBeLessThan(i);
  });
  return names.map((name) => ({
    name,
    scripts: wf.jobs[name].steps
      .filter((s) => typeof s.run === 'string' && s.name !== 'Install bp')
      .map((s) => s.run as string),
  }));
}

function gitlabJobs(text: string): Job[] {
  const ci = parse(text) as Record<string, unknown> & { stages: string[] };
  const jobs = Object.entries(ci).filter(
    ([k, v]) => !['stages', 'default', 'variables'].includes(k) && typeof v === 'object' && v !== null,
  ) as Array<[string, { stage: string; script: string[] }]>;
  jobs.sort((a, b) => ci.stages.indexOf(a[1].stage) - ci.stages.indexOf(b[1].stage));
  // GitLab runs a job's script lines in one shell, stopping at the first failure.
  return jobs.map(([name, j]) => ({ name, scripts: [j.script.join('\n')] }));
}

function sh(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function versionAt(port: number): Promise<string> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['x-version'])));
      })
      .on('error', (e) => resolve(`error: ${e.message}`));
  });
}

const dirs: Array<{ dir: string; cleanup(): void }> = [];
afterAll(async () => {
  for (const t of dirs) {
    for (const f of ['envs/staging.yaml', 'envs/prod.yaml'])
      await bp(['destroy', f, '--auto-approve'], { cwd: t.dir, env: { BP_STATE_DIR: join(t.dir, 'ci-state') } });
    t.cleanup();
  }
}, 120_000);

/** A checkout: the env files from the document (free ports), the app, bp on PATH. */
async function workspace(): Promise<{ dir: string; env: Record<string, string>; ports: number[] }> {
  const t = tempDir('bp-ci-recipe-');
  dirs.push(t);
  const ports: number[] = [];
  for (const [path, text] of yamlBlocks()) {
    if (!path.startsWith('envs/')) continue;
    const port = await freePort();
    ports.push(port);
    mkdirSync(dirname(join(t.dir, path)), { recursive: true });
    writeFileSync(join(t.dir, path), text.replace(/listen: 127\.0\.0\.1:\d+/, `listen: 127.0.0.1:${port}`));
  }
  mkdirSync(join(t.dir, 'app'));
  copyFileSync(join(ROOT, 'examples', 'app', 'server.mjs'), join(t.dir, 'app', 'server.mjs'));
  mkdirSync(join(t.dir, 'bin'));
  writeFileSync(join(t.dir, 'bin', 'bp'), `#!/bin/sh\nexec "${process.execPath}" "${BP}" "$@"\n`);
  chmodSync(join(t.dir, 'bin', 'bp'), 0o755);
  const env: Record<string, string> = {
    PATH: `${join(t.dir, 'bin')}:${process.env.PATH}`,
    HOME: process.env.HOME ?? t.dir,
    NO_COLOR: '1',
    CI: 'true',
    BP_STATE_DIR: join(t.dir, 'ci-state'),
    BP_RETRY_BASE_MS: '10',
  };
  // The environments already run web-base before the pipeline's first run.
  for (const f of ['envs/staging.yaml', 'envs/prod.yaml']) {
    const r = await bp(['apply', f, '--auto-approve'], { cwd: t.dir, env: { BP_STATE_DIR: env.BP_STATE_DIR } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  return { dir: t.dir, env, ports };
}

async function runJobs(jobs: Job[], dir: string, env: Record<string, string>): Promise<string> {
  let log = '';
  for (const job of jobs) {
    const jobEnv =
      job.name === 'promote-prod' ? { ...env, BP_NOW: new Date(Date.now() + 3600_000).toISOString() } : env;
    for (const script of job.scripts) {
      const r = await sh(script, dir, jobEnv);
      log += `--- ${job.name}: ${script}\n${r.out}`;
      expect(r.code, `${job.name} failed at:\n${script}\n\n${log}`).toBe(0);
    }
  }
  return log;
}

describe('docs/ci.md recipes', () => {
  const blocks = yamlBlocks();

  it('has both recipes and the env files they use', () => {
    expect([...blocks.keys()].sort()).toEqual([
      '.github/workflows/deploy.yml',
      '.gitlab-ci.yml',
      'envs/prod.yaml',
      'envs/staging.yaml',
    ]);
  });

  it('GitHub Actions: revision add, markdown plan, apply the saved plan with --wait, promote, prod canary', async () => {
    const w = await workspace();
    const summary = join(w.dir, 'summary.md');
    const sha = '4f2a1c9e0b7d3a5f6c8e1d2b3a4f5e6d7c8b9a0f';
    const env: Record<string, string> = {
      ...w.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_SHA: sha,
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '4242',
      GITHUB_STEP_SUMMARY: summary,
    };
    const jobs = githubJobs(blocks.get('.github/workflows/deploy.yml')!);
    expect(jobs.map((j) => j.name)).toEqual(['plan-staging', 'apply-staging', 'promote-prod']);
    await runJobs(jobs, w.dir, env);

    const md = readFileSync(summary, 'utf8');
    expect(md).toMatch(/### bp plan: `shop-staging`/);
    expect(md).toMatch(/### bp plan: `shop-prod`/);
    expect(md).toMatch(/\| \d+ \| .*stage \| `web\/web-4f2a1c9e` \|/);
    const [stagingPort, prodPort] = w.ports;
    expect(await versionAt(stagingPort)).toBe('4f2a1c9e');
    expect(await versionAt(prodPort)).toBe('4f2a1c9e');
    expect(readFileSync(join(w.dir, 'envs', 'prod.yaml'), 'utf8')).toMatch(/revision_id: web-4f2a1c9e/);
    const history = JSON.parse(
      (await bp(['history', 'shop-prod', '--json'], { cwd: w.dir, env: { BP_STATE_DIR: env.BP_STATE_DIR } })).stdout,
    ).history;
    expect(history.at(-1)).toMatchObject({
      operation: 'apply',
      outcome: 'succeeded',
      actor: { ci: { GITHUB_SHA: sha, GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '4242' } },
      splits: { web: [{ revision_id: 'web-4f2a1c9e', weight_bps: 10000 }] },
      rollouts: { web: { canary: 'web-4f2a1c9e', status: 'completed' } },
    });
  }, 240_000);

  it('GitLab CI: the same pipeline with GitLab variables', async () => {
    const w = await workspace();
    const env: Record<string, string> = {
      ...w.env,
      GITLAB_CI: 'true',
      CI_COMMIT_SHA: '9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c',
      CI_COMMIT_SHORT_SHA: '9b8c7d6e',
      CI_PIPELINE_URL: 'https://gitlab.example/acme/shop/-/pipelines/77',
    };
    const jobs = gitlabJobs(blocks.get('.gitlab-ci.yml')!);
    expect(jobs.map((j) => j.name)).toEqual(['plan-staging', 'apply-staging', 'promote-prod']);
    await runJobs(jobs, w.dir, env);
    expect(readFileSync(join(w.dir, 'plan.md'), 'utf8')).toMatch(/### bp plan: `shop-prod`/);
    const [stagingPort, prodPort] = w.ports;
    expect(await versionAt(stagingPort)).toBe('9b8c7d6e');
    expect(await versionAt(prodPort)).toBe('9b8c7d6e');
    const history = JSON.parse(
      (await bp(['history', 'shop-staging', '--json'], { cwd: w.dir, env: { BP_STATE_DIR: env.BP_STATE_DIR } })).stdout,
    ).history;
    expect(history.map((h: { operation: string }) => h.operation)).toEqual(['apply', 'apply', 'promote']);
    expect(history[1].actor.ci).toMatchObject({
      CI_PIPELINE_URL: env.CI_PIPELINE_URL,
      CI_COMMIT_SHA: env.CI_COMMIT_SHA,
    });
  }, 240_000);
});
