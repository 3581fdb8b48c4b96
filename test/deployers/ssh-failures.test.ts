/**
 * The ssh deployer's defences, against real sshds: host keys always verified (pinned or
 * known_hosts, mismatch refused), one quoting function that survives injection attempts in
 * a real remote shell, a connection killed mid-verb, a host down (partial failure, per
 * host, retryable), and a jump host.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/deployers/ssh/host-keys.js';
import { scriptCommand, shellCommand, shellQuote } from '../../src/deployers/ssh/shell.js';
import type { DeployerEnvironment } from '../../src/model/deployer.js';
import { deployment, environment, opts, revision } from './local-process-fixtures.js';
import { useLab } from './ssh/fixtures.js';
import { freePort, type Sshd, startSshd } from './ssh/sshd.js';
import { request } from '../router/support.js';

const lab = useLab(2);

const NASTY = [
  `it's`,
  `a"b`,
  'semi; touch CANARY',
  '$(touch CANARY)',
  '`touch CANARY`',
  'line\nbreak; touch CANARY',
  '$HOME ${PATH} \\ * ? [a] ~ | & > < #',
  '',
  ' spaced  out ',
  "'; touch CANARY; echo '",
];

function env(base: string, over: Parameters<typeof revision>[1] = {}): DeployerEnvironment {
  const listen = '127.0.0.1:1';
  return environment(
    [deployment('web', listen, [revision('web-v1', over)], [{ revision_id: 'web-v1', weight_bps: 10000 }])],
    base,
  );
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('host keys', () => {
  it('computes the same fingerprint as ssh-keygen', () => {
    const blob = Buffer.from(lab().sshds[0].hostPublicKey.split(' ')[1], 'base64');
    expect(fingerprintOf(blob)).toBe(lab().sshds[0].hostFingerprint);
  });

  it('refuses a host whose key does not match the pinned fingerprint, not retryably', async () => {
    const wrong = lab().sshds[1].hostFingerprint;
    const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0, { host_key: wrong })] }));
    const e = await rejection(d.observe(env(lab().appDir()), opts()));
    expect(e.code).toBe('Provider');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('refusing to connect');
    expect(e.message).toContain(lab().sshds[0].hostFingerprint);
    expect(e.message).toContain(wrong);
  });

  it('accepts a pinned public key and a known_hosts entry (plain or hashed), refuses unknown and changed ones', async () => {
    const [a, b] = lab().sshds;
    const dir = mkdtempSync(join(lab().scratch, 'kh-'));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const ok = async (over: object) => {
      const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0, { host_key: undefined, ...over })] }));
      return d.observe(env(lab().appDir()), opts());
    };
    await expect(ok({ host_key: a.hostPublicKey })).resolves.toMatchObject({ splits: {} });
    await expect(
      ok({ known_hosts: file('plain', `# comment\n[127.0.0.1]:${a.port} ${a.hostPublicKey}\n`) }),
    ).resolves.toBeTruthy();
    const { createHmac, randomBytes } = await import('node:crypto');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(`[127.0.0.1]:${a.port}`).digest('base64')}`;
    await expect(ok({ known_hosts: file('hashed', `${hashed} ${a.hostPublicKey}\n`) })).resolves.toBeTruthy();

    const unknown = await rejection(ok({ known_hosts: file('other', `[127.0.0.1]:1 ${a.hostPublicKey}\n`) }));
    expect(unknown.message).toMatch(/is not in .*other/);
    const changed = await rejection(ok({ known_hosts: file('changed', `[127.0.0.1]:${a.port} ${b.hostPublicKey}\n`) }));
    expect(changed.message).toContain('CHANGED');
    expect(changed.retryable).toBe(false);
  });
});

describe('remote command quoting', () => {
  it('quotes every word so a real remote shell sees exactly the input', async () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(() => shellQuote('nul\0byte')).toThrow(/NUL/);
    const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0)] }));
    const conn = await d.hosts[0].connection();
    const canary = join(lab().scratch, 'CANARY');
    const words = NASTY.map((w) => w.replaceAll('CANARY', canary));
    const echoed = await conn.exec(shellCommand(['printf', '%s\\0', ...words]));
    expect(echoed.stdout.split('\0').slice(0, -1)).toEqual(words);
    const viaScript = await conn.exec(scriptCommand('for a in "$@"; do printf "%s\\0" "$a"; done', words));
    expect(viaScript.stdout.split('\0').slice(0, -1)).toEqual(words);
    expect(existsSync(canary)).toBe(false);
  });

  it('deploys into a remote dir and with env values full of shell syntax, and nothing is injected', async () => {
    const canary = join(lab().scratch, 'CANARY2');
    const weird = join(lab().scratch, `dir it's; $(touch ${canary}) \`touch ${canary}\` & | x`);
    const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0, { remote_dir: weird })] }));
    const greeting = NASTY.join(' ').replaceAll('CANARY', canary);
    const e = env(lab().appDir(), {
      artifact: { command: ['node', 'app/server.mjs'], env: { VERSION: 'web-v1', GREETING: greeting } },
    });
    await d.stageRevision(e, 'web-v1', opts());
    const warmed = await d.warmRevision(e, 'web-v1', opts());
    const port = (Object.values(warmed.outputs?.hosts as object)[0] as { ports: number[] }).ports[0];
    expect((await request(`http://127.0.0.1:${port}/`)).body).toBe(`${greeting} from web-v1\n`);
    expect(readdirSync(join(weird, 'test'))).toContain('web-v1');
    await d.archiveRevision(e, 'web-v1', opts());
    expect(existsSync(canary)).toBe(false);
    expect(readdirSync(join(weird, 'test'))).not.toContain('web-v1');
  });
});

describe('failures', () => {
  it('a connection killed mid-warm is a retryable Provider error, and a retry converges', async () => {
    const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0)] }));
    const base = lab().appDir();
    writeFileSync(join(base, 'slow.mjs'), "setTimeout(() => import('./app/server.mjs'), 3000);\n");
    const e = env(base, { artifact: { command: ['node', 'slow.mjs'], env: { VERSION: 'web-v1' } } });
    await d.stageRevision(e, 'web-v1', opts());
    const warming = d.warmRevision(e, 'web-v1', opts());
    await new Promise((r) => setTimeout(r, 1200));
    for (const pid of lab().sshds[0].sessionPids()) process.kill(pid, 'SIGKILL');
    const err = await rejection(warming);
    expect(err.code).toBe('Provider');
    expect(err.retryable).toBe(true);
    const again = await d.warmRevision(e, 'web-v1', opts());
    expect(again.endpoint).toMatch(/^http:/);
    expect((await d.observe(e, opts())).revisions['web-v1']).toEqual({ present: true, healthy: true });
    await d.archiveRevision(e, 'web-v1', opts());
    expect((await d.observe(e, opts())).revisions['web-v1']).toEqual({ present: false, healthy: false });
  });

  it('reports a host that is down by name, retryably, and converges once it is back', async () => {
    const downPort = await freePort();
    const extra: Sshd[] = [];
    try {
      const probe = await startSshd(lab().client, { port: downPort });
      const fingerprint = probe.hostFingerprint;
      await probe.stop(); // its host key dir is gone; a new sshd on the port has a new key
      const config = lab().config({
        hosts: [lab().hostConfig(0), lab().hostConfig(1, { port: downPort, host_key: fingerprint })],
      });
      const d = await lab().deployer(config);
      const e = env(lab().appDir());
      const err = await rejection(d.stageRevision(e, 'web-v1', opts()));
      expect(err.code).toBe('Provider');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain(`failed on 1 of 2 hosts: root@127.0.0.1:${downPort}`);
      expect(err.message).not.toContain(`root@127.0.0.1:${lab().sshds[0].port}:`);
      const back = await startSshd(lab().client, { port: downPort });
      extra.push(back);
      const d2 = await lab().deployer(
        lab().config({
          hosts: [lab().hostConfig(0), lab().hostConfig(1, { port: downPort, host_key: back.hostFingerprint })],
        }),
      );
      await expect(d2.stageRevision(e, 'web-v1', opts())).resolves.toMatchObject({
        outputs: { artifact_sha256: expect.any(String) },
      });
      await d2.archiveRevision(e, 'web-v1', opts());
    } finally {
      for (const s of extra) await s.stop();
    }
  });

  it('reaches a host through a jump host', async () => {
    const d = await lab().deployer(
      lab().config({
        hosts: [lab().hostConfig(1)],
        jump_host: {
          host: '127.0.0.1',
          port: lab().sshds[0].port,
          user: 'root',
          private_key_path: lab().client.path,
          host_key: lab().sshds[0].hostFingerprint,
        },
      }),
    );
    const e = env(lab().appDir());
    await d.stageRevision(e, 'web-v1', opts());
    expect(existsSync(join(lab().remoteDirs[1], 'test/web-v1/app/server.mjs'))).toBe(true);
    await d.archiveRevision(e, 'web-v1', opts());
    expect(existsSync(join(lab().remoteDirs[1], 'test/web-v1'))).toBe(false);
  });

  it('refuses an image artifact and a missing program with non-retryable Provider errors', async () => {
    const d = await lab().deployer(lab().config({ hosts: [lab().hostConfig(0)] }));
    const image = await rejection(
      d.stageRevision(env(lab().appDir(), { artifact: { image: 'nginx:1', env: {} } }), 'web-v1', opts()),
    );
    expect(image).toMatchObject({ code: 'Provider', retryable: false });
    const missing = env(lab().appDir(), { artifact: { command: ['/nonexistent/prog'], env: {} } });
    const err = await rejection(d.stageRevision(missing, 'web-v1', opts()));
    expect(err).toMatchObject({ code: 'Provider', retryable: false });
    expect(err.message).toContain('/nonexistent/prog');
    await d.archiveRevision(missing, 'web-v1', opts());
  });
});
