/**
 * Uploads a tree of files to a host over SFTP, verified by checksum: files go to a staging
 * directory, the host's own `sha256sum` must agree with every local hash, and only then is
 * the staging directory moved into place and its digest recorded. An interrupted upload
 * leaves no marker, so the next stage starts over; a recorded one makes stage a no-op.
 */
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { ProviderError } from '../../model/errors.js';
import type { UploadFile, UploadTree } from './artifact.js';
import { throwIfAborted } from '../kit/abort.js';
import type { Host } from './host.js';
import { CHECKSUMS, COMMIT_UPLOAD, MAKE_DIRS, REMOVE } from './scripts.js';

const PARALLEL_FILES = 4;
const CHECKSUM_BATCH = 200;

/** The digest recorded by an earlier verified upload, or null. */
export async function recordedDigest(host: Host, marker: string): Promise<string | null> {
  const text = await host.readFile(marker);
  return text === null ? null : text.trim();
}

function put(sftp: SFTPWrapper, file: UploadFile, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if ('path' in file.source) sftp.fastPut(file.source.path, remote, { mode: file.mode }, done);
    else sftp.writeFile(remote, file.source.content, { mode: file.mode }, done);
  });
}

function chmod(sftp: SFTPWrapper, remote: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => sftp.chmod(remote, mode, (err) => (err ? reject(err) : resolve())));
}

async function verify(host: Host, staging: string, tree: UploadTree): Promise<void> {
  const want = new Map(tree.files.map((f) => [f.rel, f.sha256]));
  for (let i = 0; i < tree.files.length; i += CHECKSUM_BATCH) {
    const batch = tree.files.slice(i, i + CHECKSUM_BATCH).map((f) => f.rel);
    const out = await host.script(CHECKSUMS, [staging, ...batch], 'verifying uploaded checksums');
    const seen = new Set<string>();
    for (const line of out.split('\n')) {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) continue;
      if (want.get(m[2]) !== m[1]) {
        throw new ProviderError(`uploaded ${m[2]} on ${host.label} has checksum ${m[1]}, not ${want.get(m[2])}`, {
          retryable: true,
        });
      }
      seen.add(m[2]);
    }
    const missing = batch.filter((rel) => !seen.has(rel));
    if (missing.length > 0)
      throw new ProviderError(`upload to ${host.label} is missing ${missing.slice(0, 3).join(', ')}`, {
        retryable: true,
      });
  }
}

/**
 * Makes `finalDir` on `host` hold exactly `tree`, unless `marker` already records an upload.
 * Returns the digest now on the host and whether anything was sent.
 */
export async function ensureUploaded(
  host: Host,
  tree: () => UploadTree,
  finalDir: string,
  marker: string,
  signal: AbortSignal,
): Promise<{ digest: string; uploaded: boolean }> {
  const existing = await recordedDigest(host, marker);
  if (existing) return { digest: existing, uploaded: false };
  const files = tree();
  throwIfAborted(signal, `uploading to ${host.label}`);
  const cut = finalDir.lastIndexOf('/');
  // `_` never starts an id, so a staging dir never collides with a revision's directory.
  const staging = `${finalDir.slice(0, cut)}/_uploading-${finalDir.slice(cut + 1)}-${randomBytes(4).toString('hex')}`;
  const conn = await host.connection();
  try {
    await host.script(MAKE_DIRS, [staging, ...files.dirs.map((d) => `${staging}/${d}`)], 'creating upload directories');
    const sftp = await conn.sftp();
    const queue = [...files.files];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        throwIfAborted(signal, `uploading to ${host.label}`);
        const remote = `${staging}/${f.rel}`;
        try {
          await put(sftp, f, remote);
          await chmod(sftp, remote, f.mode); // the umask may have trimmed the mode at creation
        } catch (e) {
          if (!conn.alive)
            throw new ProviderError(`connection to ${host.label} was lost while uploading`, {
              cause: e,
              retryable: true,
            });
          throw new ProviderError(`cannot upload ${f.rel} to ${host.label}: ${(e as Error).message}`, {
            cause: e,
            retryable: true,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_FILES }, worker));
    await verify(host, staging, files);
    await host.script(COMMIT_UPLOAD, [staging, finalDir, marker, files.digest], 'moving the upload into place');
    return { digest: files.digest, uploaded: true };
  } catch (e) {
    await host.script(REMOVE, [staging], 'removing a failed upload').catch(() => undefined);
    throw e;
  }
}
