/**
 * A fake of the EKS control-plane API's DescribeCluster (GET /clusters/NAME, REST-JSON), as
 * documented in the EKS API Reference and described in BEHAVIOUR.md beside this file:
 * requests must be SigV4-signed for service `eks`; an unknown name is a 404 whose
 * `x-amzn-ErrorType` is ResourceNotFoundException.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCluster {
  name: string;
  endpoint: string;
  /** base64 PEM, as certificateAuthority.data. */
  caData: string;
  status?: 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';
  version?: string;
}

export interface FakeEks {
  url: string;
  clusters: Map<string, FakeCluster>;
  /** Every request: method, path and the access key id it was signed with. */
  requests: Array<{ method: string; path: string; accessKeyId: string | null; region: string | null }>;
  close(): Promise<void>;
}

const ACCOUNT = '111122223333';

export async function startFakeEks(region: string, clusters: FakeCluster[] = []): Promise<FakeEks> {
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const requests: FakeEks['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization ?? '';
    const cred =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/eks\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(
        auth,
      );
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      accessKeyId: cred?.[1] ?? null,
      region: cred?.[2] ?? null,
    });
    const send = (code: number, body: unknown, errorType?: string) => {
      res.writeHead(code, {
        'content-type': 'application/json',
        'x-amzn-requestid': `req-${requests.length}`,
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    if (!cred) return send(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
    const m = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m)
      return send(404, { message: `no route for ${req.method} ${url.pathname}` }, 'ResourceNotFoundException');
    const name = decodeURIComponent(m[1]);
    const c = byName.get(name);
    if (!c)
      return send(
        404,
        { clusterName: name, message: `No cluster found for name: ${name}.` },
        'ResourceNotFoundException',
      );
    send(200, {
      cluster: {
        name: c.name,
        arn: `arn:aws:eks:${region}:${ACCOUNT}:cluster/${c.name}`,
        createdAt: 1700000000.123,
        version: c.version ?? '1.30',
        endpoint: c.endpoint,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster-role`,
        resourcesVpcConfig: {
          subnetIds: ['subnet-0a1b2c3d'],
          securityGroupIds: [],
          clusterSecurityGroupId: 'sg-0a1b2c3d',
          vpcId: 'vpc-0a1b2c3d',
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
          publicAccessCidrs: ['0.0.0.0/0'],
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
        logging: {
          clusterLogging: [
            { types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false },
          ],
        },
        identity: { oidc: { issuer: `https://oidc.eks.${region}.amazonaws.com/id/EXAMPLE` } },
        status: c.status ?? 'ACTIVE',
        certificateAuthority: { data: c.caData },
        platformVersion: 'eks.5',
        tags: {},
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clusters: byName,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
