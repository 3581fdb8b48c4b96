/**
 * How commands reach their operations: each loads its module only when called, so importing this file
 * (every command does) costs nothing and `bp --version` or help never import the core.
 */
export const operations = {
  apply: () => import('./operations/apply.js'),
  conformance: () => import('./operations/conformance.js'),
  edit: () => import('./operations/edit.js'),
  history: () => import('./operations/history.js'),
  inspect: () => import('./operations/inspect.js'),
  plan: () => import('./operations/plan.js'),
  pluginsLock: () => import('./operations/plugins-lock.js'),
  promote: () => import('./operations/promote.js'),
  rollback: () => import('./operations/rollback.js'),
  rollout: () => import('./operations/rollout.js'),
  show: () => import('./operations/show.js'),
  stateRm: () => import('./operations/state-rm.js'),
  sweep: () => import('./operations/sweep.js'),
  validate: () => import('./operations/validate.js'),
};
