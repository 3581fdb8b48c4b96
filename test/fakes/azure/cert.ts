/**
 * A throwaway self-signed certificate for the fake's HTTPS listener, made with the system's
 * `openssl` at test start: the Azure SDKs talk to the fake over real TLS, trusting this
 * certificate through the deployer's `ca_file` (or NODE_EXTRA_CA_CERTS in a child process).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayCert {
  dir: string;
  /** PEM file of the certificate, which is its own CA. */
  certFile: string;
  cert: string;
  key: string;
  remove(): void;
}

export function makeThrowawayCert(): ThrowawayCert {
  const dir = mkdtempSync(join(tmpdir(), 'bp-fake-arm-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ],
    { stdio: 'pipe' },
  );
  return {
    dir,
    certFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
