/**
 * Host key verification. Every connection checks the server's key against a pinned key or
 * a known_hosts file; an unknown or changed key refuses the connection with a message that
 * says which key was offered and what was expected. Nothing is ever trusted on first use.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ProviderError } from '../../model/errors.js';
import { localPath, type SshEndpointConfig } from './config.js';

/** OpenSSH's fingerprint format: `SHA256:` + unpadded base64 of the key blob's SHA-256. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export interface HostKeyVerdict {
  ok: boolean;
  /** Why the key was refused, for the connection error. */
  reason?: string;
}

export type HostKeyCheck = (keyBlob: Buffer) => HostKeyVerdict;

const KEY_TYPE = /^(ssh-|ecdsa-|sk-)/;

/** The base64 key blob in a `type base64 [comment]` text (a .pub file or a known_hosts line tail). */
function blobOf(words: string[]): Buffer | null {
  const i = words.findIndex((w) => KEY_TYPE.test(w));
  if (i < 0 || !words[i + 1]) return null;
  const blob = Buffer.from(words[i + 1], 'base64');
  return blob.length > 0 ? blob : null;
}

function pinnedCheck(label: string, pin: string): HostKeyCheck {
  const text = pin.trim();
  if (text.startsWith('SHA256:')) {
    const want = text.replace(/=+$/, '');
    return (key) => {
      const got = fingerprintOf(key);
      return got === want
        ? { ok: true }
        : { ok: false, reason: `host key of ${label} is ${got}, but host_key pins ${want}` };
    };
  }
  const blob = blobOf(text.split(/\s+/));
  if (!blob) {
    throw new ProviderError(
      `host_key of ${label} is neither a SHA256: fingerprint nor a public key ("<type> <base64>")`,
    );
  }
  return (key) =>
    key.equals(blob)
      ? { ok: true }
      : {
          ok: false,
          reason: `host key of ${label} is ${fingerprintOf(key)}, but host_key pins ${fingerprintOf(blob)}`,
        };
}

/** known_hosts names a non-standard port as `[host]:port`. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** One known_hosts host field: comma-separated patterns (`!` negates) or a hashed `|1|salt|hash`. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function knownHostsCheck(label: string, file: string, host: string, port: number): HostKeyCheck {
  let text: string;
  try {
    text = readFileSync(localPath(file), 'utf8');
  } catch (e) {
    throw new ProviderError(`cannot read known_hosts file ${file} for ${label}: ${(e as Error).message}`);
  }
  const name = knownHostsName(host, port);
  const accepted: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let words = line.split(/\s+/);
    let marker: string | null = null;
    if (words[0].startsWith('@')) {
      marker = words[0];
      words = words.slice(1);
    }
    if (!words[0] || !hostFieldMatches(words[0], name)) continue;
    const blob = blobOf(words.slice(1));
    if (!blob) continue;
    if (marker === '@revoked') revoked.push(blob);
    else if (marker === null) accepted.push(blob); // @cert-authority: host certificates are not supported
  }
  return (key) => {
    const fp = fingerprintOf(key);
    if (revoked.some((b) => b.equals(key)))
      return { ok: false, reason: `host key ${fp} of ${label} is marked @revoked in ${file}` };
    if (accepted.some((b) => b.equals(key))) return { ok: true };
    if (accepted.length === 0) {
      return {
        ok: false,
        reason: `${name} is not in ${file} (offered host key ${fp}); add it after checking the fingerprint out of band`,
      };
    }
    return {
      ok: false,
      reason: `host key of ${label} CHANGED: offered ${fp}, ${file} has ${accepted.map(fingerprintOf).join(', ')}`,
    };
  };
}

/** The check for one endpoint; throws when the config pins nothing usable. */
export function hostKeyCheck(endpoint: SshEndpointConfig, label: string): HostKeyCheck {
  if (endpoint.host_key) return pinnedCheck(label, endpoint.host_key);
  if (endpoint.known_hosts) return knownHostsCheck(label, endpoint.known_hosts, endpoint.host, endpoint.port ?? 22);
  throw new ProviderError(`${label} has neither host_key nor known_hosts: host keys are always verified`);
}
