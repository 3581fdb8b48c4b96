/**
 * JSON paths into an environment document and their operator-facing names:
 * ['deployments', 0, 'revisions', 1, 'resources', 'cpu'] reads as
 * `resources.cpu in revision "web-v2"`, not as a JSON pointer.
 */
import { ID_REGEX } from '../model/environment.js';

export type JsonPath = (string | number)[];

/** A problem found in the document value, before it has a line and column. */
export interface PathProblem {
  path: JsonPath;
  message: string;
  /** Point at the mapping key itself (unknown or misnamed keys) rather than its value. */
  at?: 'key' | 'value';
  /** An earlier declaration the message refers to; its position is appended when known. */
  firstAt?: JsonPath;
  /** For a problem inside a string value (a malformed reference): the character index in it. */
  index?: number;
}

/** Dotted path for messages: `artifact.command[0]`, `deployments[2].traffic`. */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

interface Location {
  /** The nearest named thing: `revision "web-v1"`, `deployer "local"`, `the environment`. */
  entity: string;
  /** The path inside that thing, '' for the thing itself. */
  field: string;
}

export function describeLocation(root: unknown, path: JsonPath): Location {
  const [head, index] = path;
  if (head === 'deployments' && typeof index === 'number') {
    const deployment = itemAt(root, 'deployments', index);
    const deploymentName = labelOf(deployment, 'deployment_id', 'deployment', index);
    const [, , kind, sub] = path;
    if (kind === 'revisions' && typeof sub === 'number') {
      const revision = itemAt(deployment, 'revisions', sub);
      const id = idOf(revision, 'revision_id');
      const entity = id !== undefined ? `revision ${quote(id)}` : `revision #${sub + 1} of ${deploymentName}`;
      return { entity, field: formatJsonPath(path.slice(4)) };
    }
    if (kind === 'traffic' && typeof sub === 'number') {
      return { entity: `traffic entry #${sub + 1} of ${deploymentName}`, field: formatJsonPath(path.slice(4)) };
    }
    return { entity: deploymentName, field: formatJsonPath(path.slice(2)) };
  }
  if (head === 'deployers' && typeof index === 'string') {
    return { entity: `deployer ${quote(index)}`, field: formatJsonPath(path.slice(2)) };
  }
  if (head === 'notifications' && typeof index === 'number') {
    return { entity: `notification #${index + 1}`, field: formatJsonPath(path.slice(2)) };
  }
  return { entity: 'the environment', field: formatJsonPath(path) };
}

/** `resources.cpu in revision "web-v1"`, `revision "web-v1"`, `environment_id`. */
export function subjectOf(root: unknown, path: JsonPath): string {
  const { entity, field } = describeLocation(root, path);
  if (field === '') return entity;
  return entity === 'the environment' ? field : `${field} in ${entity}`;
}

/** `revision "web-v1"`, `artifact of revision "web-v1"`, `the environment`. */
export function containerOf(root: unknown, path: JsonPath): string {
  const { entity, field } = describeLocation(root, path);
  if (field === '') return entity;
  return entity === 'the environment' ? field : `${field} of ${entity}`;
}

/** JSON string literal, shortened so a huge or hostile value cannot flood a message. */
export function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

export function valueAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function itemAt(parent: unknown, key: string, index: number): unknown {
  const list = valueAt(parent, [key]);
  return Array.isArray(list) ? list[index] : undefined;
}

/** Only a valid id names its owner: an invalid one is reported at its own key. */
function idOf(item: unknown, key: string): string | undefined {
  const id = valueAt(item, [key]);
  return typeof id === 'string' && ID_REGEX.test(id) ? id : undefined;
}

function labelOf(item: unknown, key: string, kind: string, index: number): string {
  const id = idOf(item, key);
  return id !== undefined ? `${kind} ${quote(id)}` : `${kind} #${index + 1}`;
}
