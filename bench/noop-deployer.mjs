// A deployer that does nothing, instantly: measures bp's own per-step overhead.
export default {
  type: 'noop',
  apiVersion: 1,
  configSchema: { type: 'object' },
  create() {
    return {
      async stageRevision() {
        return {};
      },
      async warmRevision(env, id) {
        return { endpoint: `noop://${id}` };
      },
      async drainRevision() {
        return {};
      },
      async archiveRevision() {
        return {};
      },
      async applyTrafficSplit(env, deploymentId) {
        const d = env.deployments.find((x) => x.deployment_id === deploymentId);
        return { applied_deployment_id: deploymentId, applied_entries: d.traffic };
      },
      async observe() {
        return { revisions: {}, splits: {} };
      },
    };
  },
};
