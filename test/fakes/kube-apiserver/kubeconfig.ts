/** Writes a kubeconfig pointing at a fake API server, as `kind get kubeconfig` would for a cluster. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function writeKubeconfig(
  server: string,
  opts: { namespace?: string; token?: string; dir?: string } = {},
): string {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'bp-kubeconfig-'));
  const path = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node only speaks plain HTTP to a cluster marked insecure (real clusters use TLS + CA).
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'bp', user: { token: opts.token ?? 'fake-token' } }],
      contexts: [
        {
          name: 'fake',
          context: { cluster: 'fake', user: 'bp', ...(opts.namespace ? { namespace: opts.namespace } : {}) },
        },
      ],
      'current-context': 'fake',
    }),
  );
  return path;
}
