/**
 * Ids that name a property every JavaScript object inherits (`toString`, `constructor`,
 * ...) match the id pattern but are refused. State, plans and deployer views key records by
 * id in plain objects, where `state.revisions["toString"]` finds Object.prototype's function
 * rather than "no such revision": found by test/fuzz, such an id made apply fail every step
 * with no message. Refusing them at the door keeps every layer (and every plugin) safe.
 */
import { quote, type JsonPath, type PathProblem } from './paths.js';

const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

export function isReservedId(id: string): boolean {
  return RESERVED.has(id);
}

function reserved(what: string, id: string): string {
  return `${what} ${quote(id)} is reserved (every JavaScript object has a property of that name): choose another id`;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function reservedIdProblems(root: Obj): PathProblem[] {
  const problems: PathProblem[] = [];
  const check = (value: unknown, what: string, path: JsonPath, at?: 'key'): void => {
    if (typeof value === 'string' && isReservedId(value))
      problems.push({ path, message: reserved(what, value), ...(at ? { at } : {}) });
  };
  check(root.environment_id, 'environment_id', ['environment_id']);
  if (isObj(root.deployers)) {
    for (const name of Object.keys(root.deployers)) check(name, 'deployer name', ['deployers', name], 'key');
  }
  const deployments = Array.isArray(root.deployments) ? root.deployments : [];
  deployments.forEach((d, i) => {
    if (!isObj(d)) return;
    check(d.deployment_id, 'deployment_id', ['deployments', i, 'deployment_id']);
    if (!Array.isArray(d.revisions)) return;
    d.revisions.forEach((r, j) => {
      if (isObj(r)) check(r.revision_id, 'revision_id', ['deployments', i, 'revisions', j, 'revision_id']);
    });
  });
  return problems;
}
