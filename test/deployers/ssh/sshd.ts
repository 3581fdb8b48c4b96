/**
 * A private OpenSSH server for tests: throwaway host and client keys in a temp dir, root
 * login with keys only, on a free 127.0.0.1 port. Works as root without a terminal (CI).
 * `stop()` ends the listener and the per-connection processes it forked, by pid.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
export { freePort };

export const SSHD = '/usr/sbin/sshd';

export interface ClientKey {
  path: string;
  publicKey: string;
}

export interface Sshd {
  port: number;
  dir: string;
  pid: number;
  /** `ssh-ed25519 AAAA...` of the host key. */
  hostPublicKey: string;
  /** As `ssh-keygen -lf` prints it: `SHA256:...`. */
  hostFingerprint: string;
  /** The server's log so far (sshd -e writes it to stderr). */
  log(): string;
  /** pids of the per-connection sshd processes (children of the listener). */
  sessionPids(): number[];
  stop(): Promise<void>;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bp-test', '-f', path], { stdio: 'ignore' });
}

export function newClientKey(dir = mkdtempSync(join(tmpdir(), 'bp-ssh-client-'))): ClientKey {
  const path = join(dir, 'id_ed25519');
  keygen(path);
  return { path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return kids;
}

function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  for (const kid of childrenOf(pid)) all.push(kid, ...descendantsOf(kid));
  return all;
}

export async function startSshd(client: ClientKey, opts: { port?: number } = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'bp-sshd-'));
  const port = opts.port ?? (await freePort());
  keygen(join(dir, 'host_key'));
  writeFileSync(join(dir, 'authorized_keys'), `${client.publicKey}\n`, { mode: 0o600 });
  // sshd insists on its privilege separation directory even when it runs as root.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      'LogLevel INFO',
      // bash sources ~/.bashrc for every command run over SSH unless SHLVL says it is nested;
      // root's .bashrc here runs pyenv init, which costs seconds per command.
      'SetEnv SHLVL=1',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start on port ${port}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_key.pub')], {
    encoding: 'utf8',
  }).split(' ')[1];
  const pid = child.pid as number;
  return {
    port,
    dir,
    pid,
    hostPublicKey: pub,
    hostFingerprint: fingerprint,
    log: () => log,
    sessionPids: () => childrenOf(pid),
    async stop() {
      const sessions = descendantsOf(pid);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      for (const s of sessions) {
        try {
          process.kill(s, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test cleanup: kills every process a deployer recorded under a remote dir (replica and
 * router records, "PID STARTTIME ..."), whole process groups, if the pid is still that process.
 */
export function killRecorded(remoteDir: string): number {
  let killed = 0;
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rec')) {
        const [pid, st] = readFileSync(p, 'utf8').trim().split(' ');
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] !== st) continue;
        } catch {
          continue;
        }
        for (const target of [-Number(pid), Number(pid)]) {
          try {
            process.kill(target, 'SIGKILL');
            killed++;
          } catch {
            /* gone */
          }
        }
      }
    }
  };
  walk(remoteDir);
  return killed;
}
