/**
 * What the EKS authenticator checks before it replays a token's URL to STS (BEHAVIOUR.md,
 * "Tokens"): the `k8s-aws-v1.` prefix, base64url, an STS GetCallerIdentity URL presigned with
 * `x-k8s-aws-id` among the signed headers, naming this cluster. The fake also recomputes the
 * signature with the test's credentials, which the real STS would do.
 */
// Namespace imports: they still type-check when the SDKs are not installed (types/absent-cloud-sdk.d.ts).
import * as crypto from '@aws-crypto/sha256-js';
import * as http from '@smithy/protocol-http';
import * as sigv4 from '@smithy/signature-v4';

export interface ExpectedSigner {
  clusterName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The regional STS host an authenticator in `region` replays to: China regions live under amazonaws.com.cn. */
function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

export async function verifyEksToken(authorization: string | undefined, expect: ExpectedSigner): Promise<boolean> {
  const m = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) return false;
  const url = new URL(Buffer.from(m[1], 'base64url').toString('utf8'));
  const q = url.searchParams;
  if (url.protocol !== 'https:' || url.hostname !== stsHost(expect.region)) return false;
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return false;
  if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) return false;
  if (!(q.get('X-Amz-Credential') ?? '').startsWith(`${expect.accessKeyId}/`)) return false;
  const date = q.get('X-Amz-Date') ?? '';
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const signer = new sigv4.SignatureV4({
    credentials: { accessKeyId: expect.accessKeyId, secretAccessKey: expect.secretAccessKey },
    region: expect.region,
    service: 'sts',
    sha256: crypto.Sha256,
  });
  const again = await signer.presign(
    new http.HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      headers: { host: url.hostname, 'x-k8s-aws-id': expect.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    }),
    { expiresIn: Number(q.get('X-Amz-Expires')), signingDate },
  );
  return again.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature');
}
