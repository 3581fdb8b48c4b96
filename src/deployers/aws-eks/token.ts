/**
 * The bearer token EKS accepts, as `aws eks get-token` and aws-iam-authenticator make it:
 * `k8s-aws-v1.` + base64url (unpadded) of a presigned STS GetCallerIdentity URL whose signed
 * headers include `x-k8s-aws-id: <cluster name>`. The cluster's authenticator replays the URL
 * to learn who signed it; the token itself carries no secret and is valid for 15 minutes.
 */
import { importPackage } from '../kit/sdk.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface TokenRequest {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  /** Defaults to the region's STS endpoint (`stsHostFor`). */
  stsHost?: string;
  signingDate?: Date;
}

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The presigned URL's own lifetime; EKS honours a token for 15 minutes regardless. */
export const PRESIGN_EXPIRES_SECONDS = 60;

/** One package of the AWS SDK the aws-eks deployer needs (a PluginLoadError naming the install command if it is missing). */
export function importAwsPackage<T>(name: string): Promise<T> {
  return importPackage<T>(name, { deployer: 'aws-eks', what: 'package', install: `npm install ${name}` });
}

/**
 * The regional STS endpoint of a region, by partition: the China regions (cn-north-1,
 * cn-northwest-1) are served under amazonaws.com.cn, the ISO partitions under their own
 * domains; every other region under amazonaws.com. A token presigned for the wrong host is
 * refused by the cluster's authenticator.
 */
export function stsHostFor(region: string): string {
  if (region.startsWith('cn-')) return `sts.${region}.amazonaws.com.cn`;
  if (region.startsWith('us-isob-')) return `sts.${region}.sc2s.sgov.gov`;
  if (region.startsWith('us-iso-')) return `sts.${region}.c2s.ic.gov`;
  return `sts.${region}.amazonaws.com`;
}

/** RFC 3986 encoding, as SigV4 canonicalises query strings. */
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export async function presignedCallerIdentityUrl(req: TokenRequest): Promise<string> {
  const [{ SignatureV4 }, { Sha256 }, { HttpRequest }] = await Promise.all([
    importAwsPackage<typeof import('@smithy/signature-v4')>('@smithy/signature-v4'),
    importAwsPackage<typeof import('@aws-crypto/sha256-js')>('@aws-crypto/sha256-js'),
    importAwsPackage<typeof import('@smithy/protocol-http')>('@smithy/protocol-http'),
  ]);
  const host = req.stsHost ?? stsHostFor(req.region);
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    headers: { host, 'x-k8s-aws-id': req.clusterName },
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
  });
  const signer = new SignatureV4({ credentials: req.credentials, region: req.region, service: 'sts', sha256: Sha256 });
  const signed = await signer.presign(request, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: req.signingDate });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  return `https://${host}/?${query}`;
}

export async function eksToken(req: TokenRequest): Promise<string> {
  const url = await presignedCallerIdentityUrl(req);
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
