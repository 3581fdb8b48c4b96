/**
 * memory-deployer: a complete bp deployer plugin in plain JavaScript, with no dependencies
 * (not even on bp). It passes `bp conformance`, and is the worked example of
 * docs/writing-a-deployer.md.
 *
 * Its "provider" is a JSON file under ctx.stateDir instead of a cloud API: every verb reads
 * it, changes it and writes it back, and `observe` reports what the file says. That keeps the
 * plugin honest in the ways the bench checks (another process can inspect the provider, and
 * observe never answers from the plugin's own memory) while staying small enough to read.
 *
 * Usage in env.yaml:
 *   deployers:
 *     mem: { type: ./examples/plugins/memory-deployer.mjs, config: { file: provider.json } }
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

const FULL_WEIGHT_BPS = 10000;

/**
 * bp recognises errors by `code` (and `retryable` for provider failures), not by class, so a
 * plugin can throw plain Errors with those fields.
 */
function coded(code, message, retryable = false) {
  const e = new Error(message);
  e.name = `${code}Error`;
  e.code = code;
  e.retryable = retryable;
  return e;
}

/** One queue per provider file, so concurrent verbs in one process never lose each other's writes. */
const queues = new Map();
let writes = 0;

export class MemoryDeployer {
  constructor(config, ctx) {
    this.file = resolve(ctx.stateDir, config.file);
    this.logger = ctx.logger;
  }

  // ---- helpers a real plugin would have too -------------------------------------------

  /** An aborted call must change nothing, so this runs before any provider work. */
  checkAbort(signal) {
    if (signal?.aborted) throw coded('Aborted', 'the operation was aborted', true);
  }

  /** Same contract as bp's `requireRevision`: RevisionNotFound before any provider call. */
  findRevision(env, revisionId) {
    for (const deployment of env.deployments) {
      const revision = deployment.revisions.find((r) => r.revision_id === revisionId);
      if (revision) return { deployment, revision };
    }
    throw coded('RevisionNotFound', `revision "${revisionId}" is not in environment "${env.environment_id}"`);
  }

  /** Same contract as bp's `enforceSplitInvariants`. */
  checkSplit(env, deploymentId) {
    const deployment = env.deployments.find((d) => d.deployment_id === deploymentId);
    if (!deployment || !Array.isArray(deployment.traffic) || deployment.traffic.length === 0) {
      throw coded('SplitNotFound', `deployment "${deploymentId}" has no traffic split`);
    }
    let sum = 0;
    for (const e of deployment.traffic) {
      const w = e.weight_bps;
      if (!Number.isInteger(w) || w < 0 || w > FULL_WEIGHT_BPS) {
        throw coded(
          'InvalidSplit',
          `split of "${deploymentId}": weight of "${e.revision_id}" must be an integer 0..10000, got ${w}`,
        );
      }
      if (!deployment.revisions.some((r) => r.revision_id === e.revision_id)) {
        throw coded('InvalidSplit', `split of "${deploymentId}" names unknown revision "${e.revision_id}"`);
      }
      sum += w;
    }
    if (sum !== FULL_WEIGHT_BPS) {
      throw coded('InvalidSplit', `split of "${deploymentId}" sums to ${sum}, not 10000`);
    }
    return {
      deployment,
      entries: deployment.traffic.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps })),
    };
  }

  /** "Pulls" the artifact: a command or binary must exist and be executable. */
  async validateArtifact(revision, baseDir) {
    const { artifact } = revision;
    const program = artifact.command?.[0] ?? artifact.binary;
    if (program === undefined) return; // an image: this provider has no registry to ask
    const cwd = resolve(baseDir, artifact.cwd ?? '.');
    const candidates =
      program.includes('/') || artifact.binary !== undefined
        ? [isAbsolute(program) ? program : resolve(cwd, program)]
        : (process.env.PATH ?? '')
            .split(delimiter)
            .filter(Boolean)
            .map((dir) => join(dir, program));
    for (const path of candidates) {
      try {
        await access(path, constants.X_OK);
        return;
      } catch {
        // try the next PATH entry
      }
    }
    throw coded(
      'Provider',
      `revision "${revision.revision_id}": program ${JSON.stringify(program)} was not found or is not executable; fix the artifact and create a new revision`,
      false,
    );
  }

  async readProvider() {
    try {
      return JSON.parse(await readFile(this.file, 'utf8'));
    } catch (e) {
      if (e.code === 'ENOENT') return { format: 'memory-deployer/v1', revisions: {}, splits: {} };
      throw coded('Provider', `provider file ${this.file} is unreadable: ${e.message}`, false);
    }
  }

  /** Write-then-rename, so a reader (observe, another process) never sees half a file. */
  async writeProvider(provider) {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${++writes}.tmp`;
    await writeFile(tmp, JSON.stringify(provider, null, 2) + '\n');
    await rename(tmp, this.file);
  }

  /** Read, change, write under the file's queue; `change` may throw to write nothing. */
  withProvider(change) {
    const previous = queues.get(this.file) ?? Promise.resolve();
    const run = previous.then(async () => {
      const provider = await this.readProvider();
      const result = await change(provider);
      await this.writeProvider(provider);
      return result;
    });
    queues.set(
      this.file,
      run.catch(() => undefined),
    );
    return run;
  }

  // ---- the deployer API (docs/design.md#plugin-api) -----------------------------------------

  async stageRevision(env, revisionId, { signal } = {}) {
    this.checkAbort(signal);
    const { deployment, revision } = this.findRevision(env, revisionId);
    await this.validateArtifact(revision, env.base_dir);
    this.checkAbort(signal);
    return this.withProvider((p) => {
      const existing = p.revisions[revisionId];
      if (!existing || existing.status === 'draining') {
        p.revisions[revisionId] = { deployment_id: deployment.deployment_id, status: 'staged', endpoint: null };
      }
      return { outputs: { provider_file: this.file } };
    });
  }

  async warmRevision(env, revisionId, { signal } = {}) {
    this.checkAbort(signal);
    const { deployment } = this.findRevision(env, revisionId);
    return this.withProvider((p) => {
      const r = p.revisions[revisionId];
      if (!r) throw coded('Provider', `revision "${revisionId}" is not staged; stage it before warming`, false);
      r.status = 'ready';
      r.endpoint = `memory://${deployment.deployment_id}/${revisionId}`;
      return { endpoint: r.endpoint };
    });
  }

  /** This provider has no in-flight work to wait for, so draining just stops new work. */
  async drainRevision(env, revisionId, { signal } = {}) {
    this.checkAbort(signal);
    this.findRevision(env, revisionId);
    return this.withProvider((p) => {
      const r = p.revisions[revisionId];
      if (r) r.status = 'draining';
      return {};
    });
  }

  /** Succeeds on a revision that is already gone. */
  async archiveRevision(env, revisionId, { signal } = {}) {
    this.checkAbort(signal);
    this.findRevision(env, revisionId);
    return this.withProvider((p) => {
      delete p.revisions[revisionId];
      return {};
    });
  }

  /** bp calls this right before archiving the deployment's last revision; the split goes. */
  async releaseRouting(env, deploymentId, { signal } = {}) {
    this.checkAbort(signal);
    return this.withProvider((p) => {
      delete p.splits[deploymentId];
      return {};
    });
  }

  async applyTrafficSplit(env, deploymentId, { signal } = {}) {
    this.checkAbort(signal);
    const { entries } = this.checkSplit(env, deploymentId);
    return this.withProvider((p) => {
      for (const e of entries) {
        if (e.weight_bps > 0 && p.revisions[e.revision_id]?.status !== 'ready') {
          // Retryable: the revision may just not have finished warming.
          throw coded('Provider', `revision "${e.revision_id}" is not ready, so it cannot take traffic`, true);
        }
      }
      p.splits[deploymentId] = entries;
      return { applied_deployment_id: deploymentId, applied_entries: entries };
    });
  }

  /** Everything the provider runs, including revisions the environment no longer names. */
  async observe(env, { signal } = {}) {
    this.checkAbort(signal);
    const p = await this.readProvider();
    const revisions = {};
    for (const d of env.deployments) {
      for (const r of d.revisions) revisions[r.revision_id] = { present: false, healthy: false };
    }
    for (const [id, r] of Object.entries(p.revisions)) {
      revisions[id] = { present: true, healthy: r.status === 'ready' };
    }
    return { revisions, splits: p.splits };
  }

  /** What this provider routes, in bp's runtime-config shape (docs/design.md#runtime-config). */
  async reportRuntimeConfig(env) {
    const p = await this.readProvider();
    const revisions = [];
    for (const id of env.deployments.map((d) => d.deployment_id).sort()) {
      const split = p.splits[id] ?? [];
      if (split.length === 0 || split.reduce((a, e) => a + e.weight_bps, 0) !== FULL_WEIGHT_BPS) continue;
      for (const e of split) {
        revisions.push({
          deployment_id: id,
          revision_id: e.revision_id,
          weight_bps: e.weight_bps,
          endpoint: p.revisions[e.revision_id]?.endpoint ?? null,
        });
      }
    }
    return { format_version: 'bp.runtime-config/v1', environment_id: env.environment_id, revisions };
  }
}

export const configSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    file: {
      type: 'string',
      minLength: 1,
      default: 'provider.json',
      description: 'The provider file, relative to the deployer state directory.',
    },
  },
};

/** Builds a plugin object from a deployer class; the bench's broken variants reuse it. */
export function pluginOf(type, DeployerClass) {
  return {
    type,
    apiVersion: 1,
    configSchema,
    create(config, ctx) {
      return new DeployerClass(config, ctx);
    },
  };
}

export default pluginOf('memory', MemoryDeployer);
