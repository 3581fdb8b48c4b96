/**
 * Rules of a deployment's `rollout` that JSON Schema cannot express: weight steps only grow
 * the new revision's share, analyses name metrics bp knows how to measure (or bring their
 * own PromQL), bounds are consistent, and a Prometheus analysis says where Prometheus is.
 */
import { BUILTIN_METRICS } from '../model/environment.js';
import { quote, type JsonPath, type PathProblem } from './paths.js';

type Obj = Record<string, unknown>;

export function rolloutProblems(rollout: unknown, name: string, base: JsonPath): PathProblem[] {
  if (!isObj(rollout) || !Array.isArray(rollout.steps)) return [];
  const problems: PathProblem[] = [];
  let lastWeight: { value: number; path: JsonPath } | null = null;
  rollout.steps.forEach((step, i) => {
    if (!isObj(step)) return;
    const path: JsonPath = [...base, 'steps', i];
    if (typeof step.weight_bps === 'number' && Number.isInteger(step.weight_bps)) {
      if (lastWeight && step.weight_bps <= lastWeight.value) {
        problems.push({
          path: [...path, 'weight_bps'],
          message: `rollout step ${i + 1} of ${name} sets weight_bps ${step.weight_bps}, not above the earlier step's ${lastWeight.value}; steps only grow the new revision's weight`,
          firstAt: lastWeight.path,
        });
      }
      lastWeight = { value: step.weight_bps, path: [...path, 'weight_bps'] };
    }
    if (isObj(step.analysis))
      problems.push(...analysisProblems(step.analysis, `rollout step ${i + 1} of ${name}`, [...path, 'analysis']));
  });
  return problems;
}

function analysisProblems(a: Obj, where: string, path: JsonPath): PathProblem[] {
  const problems: PathProblem[] = [];
  const provider = a.provider ?? 'router';
  const builtin = (BUILTIN_METRICS as readonly unknown[]).includes(a.metric);
  if (typeof a.metric === 'string' && !builtin && !(provider === 'prometheus' && typeof a.query === 'string')) {
    problems.push({
      path: [...path, 'metric'],
      message:
        `${where} measures unknown metric ${quote(a.metric)}; known: ${BUILTIN_METRICS.join(', ')} ` +
        '(or use provider: prometheus with a query)',
    });
  }
  if (provider === 'prometheus' && a.address === undefined) {
    problems.push({
      path,
      message: `${where} uses provider prometheus but has no address (the Prometheus server, e.g. http://127.0.0.1:9090)`,
    });
  }
  if (provider === 'router' && (a.address !== undefined || a.query !== undefined)) {
    const key = a.address !== undefined ? 'address' : 'query';
    problems.push({ path: [...path, key], message: `${where} sets ${key}, which only provider: prometheus uses` });
  }
  if (typeof a.min === 'number' && typeof a.max === 'number' && a.min > a.max) {
    problems.push({
      path: [...path, 'min'],
      message: `${where} has min ${a.min} above max ${a.max}: no measurement could pass`,
    });
  }
  if (a.metric === 'success_rate' && typeof a.min === 'number' && (a.min < 0 || a.min > 1)) {
    problems.push({
      path: [...path, 'min'],
      message: `${where}: success_rate is a share between 0 and 1, so min ${a.min} is out of range`,
    });
  }
  return problems;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
