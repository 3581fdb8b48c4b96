/**
 * Stand-in types for a cloud SDK that is not installed.
 *
 * The cloud SDKs are optional peer dependencies: `npm ci --omit=optional` or an install that
 * skips them must still type-check and build bp. tsconfig.json maps each SDK first to its real
 * declaration file and, only when that file is absent, to this one (`paths` tries its entries in
 * order). With the SDK installed, bp's code is checked against the SDK's real types; without it,
 * the SDK's values and the type names bp uses below are `any`, and at run time the deployer that
 * needs the SDK fails with a PluginLoadError naming what to install.
 *
 * Only type names may be listed (a value would make the stand-in module's value typed, no longer
 * `any`); import SDK values as `import * as sdk` or through the deployer's lazy loader.
 * Keep the list of type names in step with the `import type` lines of src/ and test/
 * (test/package/sdk-types.test.ts checks every mapped real file exists).
 */
declare namespace sdk {
  // @aws-sdk/client-ec2
  type EC2Client = any;
  type Instance = any;
  // @aws-sdk/client-elastic-load-balancing-v2
  type ElasticLoadBalancingV2Client = any;
  type Rule = any;
  type RuleCondition = any;
  type Action = any;
  type Tag = any;
  type TargetGroupTuple = any;
  type TargetGroup = any;
  type TargetHealthDescription = any;
  // @azure/*
  type ComputeManagementClient = any;
  type NetworkManagementClient = any;
  type TrafficManagerManagementClient = any;
  type Endpoint = any;
  type TokenCredential = any;
  // @kubernetes/client-node
  type KubeConfig = any;
  type KubernetesObjectApi = any;
}
declare const sdk: any;
export = sdk;
