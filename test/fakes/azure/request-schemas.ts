/**
 * The models each PUT/PATCH body the fake serves is checked against (BEHAVIOUR.md, "Request
 * validation"), from the SDKs bp itself uses: `@azure/arm-compute` for virtual machines,
 * with the leaf types of its published declarations laid over it (compute-leaf-types.ts),
 * `@azure/arm-network` for public IPs, load balancers and NICs, `@azure/arm-trafficmanager` for
 * profiles and endpoints.
 */
import { withDeclaredTypes } from './compute-leaf-types.js';
import { computeModels, computeSchema } from './compute-schema.js';
import { networkSchemas, trafficManagerSchemas } from './mapper-schema.js';
import type { Composite } from './wire-schema.js';

export interface RequestSchemas {
  /** By lower-cased resource type (`microsoft.network/loadbalancers`). */
  put: Map<string, Composite>;
  /** `PATCH …/trafficmanagerprofiles/P/azureEndpoints/E`. */
  endpoint: Composite;
}

let loaded: Promise<RequestSchemas> | null = null;

export function requestSchemas(): Promise<RequestSchemas> {
  loaded ??= (async () => {
    const network = networkSchemas();
    const tm = trafficManagerSchemas();
    return {
      put: new Map([
        [
          'microsoft.compute/virtualmachines',
          withDeclaredTypes(await computeSchema('virtualMachine'), await computeModels()),
        ],
        ['microsoft.network/publicipaddresses', network.composite('PublicIPAddress')],
        ['microsoft.network/loadbalancers', network.composite('LoadBalancer')],
        ['microsoft.network/networkinterfaces', network.composite('NetworkInterface')],
        ['microsoft.network/trafficmanagerprofiles', tm.composite('Profile')],
      ]),
      endpoint: tm.composite('Endpoint'),
    };
  })();
  return loaded;
}
