/**
 * Rules JSON Schema cannot express: unique ids, references between deployments, revisions,
 * deployers and traffic, and the traffic-split invariants. Runs on the raw parsed value next
 * to schema validation, so every check first makes sure its own inputs are well-formed and
 * stays silent otherwise (the schema has already reported them).
 */
import { isIPv6 } from 'node:net';
import { FULL_WEIGHT_BPS, ID_REGEX } from '../model/environment.js';
import { malformedReferenceProblems } from './env-references.js';
import { quote, type JsonPath, type PathProblem } from './paths.js';
import { reservedIdProblems } from './reserved-ids.js';
import { rolloutProblems } from './rollout-checks.js';
import { environmentSchema } from './schema.js';

type Obj = Record<string, unknown>;

const STATES = new Set(['ready', 'inactive', 'archived']);
const WILDCARD_HOSTS = new Set(['0.0.0.0', '[::]']);

let listenPattern: RegExp | undefined;
function listenRegex(): RegExp {
  if (!listenPattern) {
    const defs = environmentSchema().$defs as Record<string, { pattern: string }>;
    listenPattern = new RegExp(defs.listen.pattern, 'u');
  }
  return listenPattern;
}

interface RevisionInfo {
  deploymentIndex: number;
  deploymentName: string;
  path: JsonPath;
}

export function semanticProblems(root: unknown): PathProblem[] {
  if (!isObj(root)) return [];
  const problems: PathProblem[] = [];
  const deployments = Array.isArray(root.deployments) ? root.deployments : [];
  const deployerNames = isObj(root.deployers) ? Object.keys(root.deployers) : undefined;
  const revisions = collectRevisions(deployments, problems);
  const deploymentIds = new Map<string, JsonPath>();
  const listens: { key: { host: string; port: string }; name: string; path: JsonPath }[] = [];

  deployments.forEach((d, i) => {
    if (!isObj(d)) return;
    const base: JsonPath = ['deployments', i];
    const id = validId(d.deployment_id);
    const name = id !== undefined ? `deployment ${quote(id)}` : `deployment #${i + 1}`;
    if (id !== undefined) {
      const first = deploymentIds.get(id);
      if (first)
        problems.push({
          path: [...base, 'deployment_id'],
          message: `duplicate deployment id ${quote(id)}`,
          firstAt: first,
        });
      else deploymentIds.set(id, [...base, 'deployment_id']);
    }
    if (typeof d.deployer === 'string' && d.deployer !== '' && deployerNames && !deployerNames.includes(d.deployer)) {
      const declared = deployerNames.length > 0 ? `declared: ${deployerNames.join(', ')}` : 'none is declared';
      problems.push({
        path: [...base, 'deployer'],
        message: `${name} uses deployer ${quote(d.deployer)}, which is not declared under deployers (${declared})`,
      });
    }
    if (typeof d.listen === 'string' && listenRegex().test(d.listen))
      checkListen(d.listen, name, [...base, 'listen'], listens, problems);
    if (typeof d.metrics_listen === 'string' && listenRegex().test(d.metrics_listen)) {
      checkListen(d.metrics_listen, `${name} (metrics_listen)`, [...base, 'metrics_listen'], listens, problems);
    }
    checkTraffic(d, i, name, revisions, problems);
    problems.push(...rolloutProblems(d.rollout, name, [...base, 'rollout']));
  });

  problems.push(...reservedIdProblems(root));
  problems.push(...malformedReferenceProblems(root));
  return problems;
}

/** Revision ids are unique across the whole environment: a revision never moves between deployments. */
function collectRevisions(deployments: unknown[], problems: PathProblem[]): Map<string, RevisionInfo> {
  const seen = new Map<string, RevisionInfo>();
  deployments.forEach((d, i) => {
    if (!isObj(d) || !Array.isArray(d.revisions)) return;
    const deploymentId = validId(d.deployment_id);
    const deploymentName = deploymentId !== undefined ? `deployment ${quote(deploymentId)}` : `deployment #${i + 1}`;
    d.revisions.forEach((r, j) => {
      if (!isObj(r)) return;
      const path: JsonPath = ['deployments', i, 'revisions', j];
      checkReplicaBounds(r, path, problems);
      const id = validId(r.revision_id);
      if (id === undefined) return;
      const first = seen.get(id);
      if (!first) {
        seen.set(id, { deploymentIndex: i, deploymentName, path });
      } else if (first.deploymentIndex === i) {
        problems.push({
          path: [...path, 'revision_id'],
          message: `duplicate revision id ${quote(id)} in ${deploymentName}`,
          firstAt: [...first.path, 'revision_id'],
        });
      } else {
        problems.push({
          path: [...path, 'revision_id'],
          message: `revision id ${quote(id)} is already used by ${first.deploymentName}: revision ids are unique within the environment`,
          firstAt: [...first.path, 'revision_id'],
        });
      }
    });
  });
  return seen;
}

function checkReplicaBounds(r: Obj, path: JsonPath, problems: PathProblem[]): void {
  if (!isObj(r.resources)) return;
  const { replicas, max_replicas: max } = r.resources;
  const effective = replicas === undefined ? 1 : replicas;
  if (isWholeNumber(max) && isWholeNumber(effective) && max < effective) {
    problems.push({
      path: [...path, 'resources', 'max_replicas'],
      message: `resources.max_replicas (${max}) of revision ${quote(String(r.revision_id))} is below replicas (${effective})`,
    });
  }
}

function checkTraffic(
  d: Obj,
  i: number,
  name: string,
  revisions: Map<string, RevisionInfo>,
  problems: PathProblem[],
): void {
  const base: JsonPath = ['deployments', i];
  const states = new Map<string, string>();
  let statesKnown = Array.isArray(d.revisions);
  for (const r of Array.isArray(d.revisions) ? d.revisions : []) {
    const id = isObj(r) ? validId(r.revision_id) : undefined;
    const state = isObj(r) ? (r.state === undefined ? 'ready' : r.state) : undefined;
    if (id === undefined || typeof state !== 'string' || !STATES.has(state)) statesKnown = false;
    else if (!states.has(id)) states.set(id, state);
  }
  const hasReady = [...states.values()].includes('ready');
  if (d.traffic === undefined || (Array.isArray(d.traffic) && d.traffic.length === 0)) {
    if (hasReady) {
      problems.push({
        path: [...base, 'traffic'],
        message: `${name} has ready revisions but no traffic split: add traffic entries whose weight_bps sum to 10000`,
      });
    }
    return;
  }
  if (!Array.isArray(d.traffic)) return;

  const named = new Map<string, JsonPath>();
  let sum = 0;
  let weightsKnown = true;
  d.traffic.forEach((e, k) => {
    const path: JsonPath = [...base, 'traffic', k];
    const weight = isObj(e) ? e.weight_bps : undefined;
    const weightOk = isWholeNumber(weight) && weight >= 0 && weight <= FULL_WEIGHT_BPS;
    if (weightOk) sum += weight;
    else weightsKnown = false;
    const id = isObj(e) ? validId(e.revision_id) : undefined;
    if (id === undefined) return;
    const first = named.get(id);
    if (first) {
      problems.push({
        path: [...path, 'revision_id'],
        message: `traffic of ${name} names revision ${quote(id)} twice`,
        firstAt: first,
      });
      return;
    }
    named.set(id, [...path, 'revision_id']);
    const owner = revisions.get(id);
    if (!owner || owner.deploymentIndex !== i) {
      const message = owner
        ? `traffic of ${name} names revision ${quote(id)}, which belongs to ${owner.deploymentName}`
        : `traffic of ${name} names unknown revision ${quote(id)}`;
      problems.push({ path: [...path, 'revision_id'], message });
      return;
    }
    const state = states.get(id);
    if (weightOk && weight > 0 && (state === 'inactive' || state === 'archived')) {
      problems.push({
        path: [...path, 'weight_bps'],
        message: `traffic of ${name} gives ${weight} bps to revision ${quote(id)}, whose state is ${state}: set its weight to 0 or its state to ready`,
      });
    }
  });
  if (hasReady && statesKnown && weightsKnown && sum !== FULL_WEIGHT_BPS) {
    problems.push({ path: [...base, 'traffic'], message: `traffic weights of ${name} sum to ${sum}, not 10000` });
  }
}

function checkListen(
  listen: string,
  name: string,
  path: JsonPath,
  seen: { key: { host: string; port: string }; name: string; path: JsonPath }[],
  problems: PathProblem[],
): void {
  const m = /^(.*):([0-9]+)$/.exec(listen);
  if (!m) return; // the schema has reported it
  const host = m[1].toLowerCase();
  const port = String(Number(m[2]));
  if (host.startsWith('[')) {
    if (!isIPv6(host.slice(1, -1))) {
      problems.push({ path, message: `listen of ${name} has an invalid IPv6 address ${quote(m[1])}` });
      return;
    }
  }
  // A wildcard address takes the port on every interface, so it clashes with any host.
  const clash = seen.find(
    (s) => s.key.port === port && (s.key.host === host || WILDCARD_HOSTS.has(s.key.host) || WILDCARD_HOSTS.has(host)),
  );
  if (clash) {
    problems.push({
      path,
      message: `listen address ${quote(listen)} of ${name} is already used by ${clash.name}`,
      firstAt: clash.path,
    });
    return;
  }
  seen.push({ key: { host, port }, name, path });
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isWholeNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function validId(v: unknown): string | undefined {
  return typeof v === 'string' && ID_REGEX.test(v) ? v : undefined;
}
