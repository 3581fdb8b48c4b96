/**
 * A private podman engine for tests: its own containers.conf, storage.conf, root, runroot
 * and API socket in a temp dir, so nothing touches the machine's podman state. Settings
 * are the ones podman's Docker API needs on this kind of host (runc, cgroupfs, vfs, file
 * events, bounded ulimits); see docs/deployers/docker.md.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_IMAGE = 'localhost/bp-test-server:1';

/**
 * Writes the version (from env) into the web root, then serves it; sh stays PID 1 so SIGTERM
 * stops it at once. CRASH=reason makes it exit at start; /cgi-bin/slow answers after 1.5 s.
 */
const SERVE_SCRIPT = `#!/bin/sh
if [ -n "$CRASH" ]; then echo "crashing on purpose: $CRASH" >&2; exit 3; fi
mkdir -p /www/cgi-bin
echo "\${BP_BENCH_REVISION:-\${VERSION:-unknown}}" > /www/index.html
cp /www/index.html /www/healthz
busybox httpd -f -p "\${PORT:-8080}" -h /www &
pid=$!
trap 'kill $pid; exit 0' TERM INT
wait $pid
`;

const SLOW_CGI = `#!/bin/sh
sleep 1.5
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "slow $(cat /www/index.html)"
`;

export interface PodmanEngine {
  dir: string;
  socketPath: string;
  /** Runs the podman CLI against this engine's storage. */
  podman(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function podmanEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
  };
}

function writeConfigs(dir: string): void {
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=32768:32768"]',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, 'events.log')}"`,
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '[network]',
      `network_config_dir = "${join(dir, 'net.d')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'storage.conf'),
    ['[storage]', 'driver = "vfs"', `graphroot = "${join(dir, 'root')}"`, `runroot = "${join(dir, 'run')}"`, ''].join(
      '\n',
    ),
  );
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts `podman system service` on a unix socket in a fresh temp dir (short path: conmon's socket paths are length-limited). */
export async function startPodman(): Promise<PodmanEngine> {
  const dir = mkdtempSync('/tmp/bpd-');
  writeConfigs(dir);
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  const env = podmanEnv(dir);
  const podman = async (...args: string[]): Promise<string> =>
    (await run('podman', [...base, ...args], { env, timeout: 60_000 })).stdout;
  const socketPath = join(dir, 'podman.sock');
  const service = spawn('podman', [...base, 'system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  service.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    // Containers outlive the service (conmon holds them): remove them first, through the CLI.
    await podman('rm', '--all', '--force', '--time', '0').catch(() => undefined);
    if (service.exitCode === null && service.signalCode === null) {
      service.kill('SIGTERM');
      if (!(await waitExit(service, 10_000))) service.kill('SIGKILL');
      await waitExit(service, 5000);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  while (!(existsSync(socketPath) && (await ping(socketPath)))) {
    if (service.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not come up: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { dir, socketPath, podman, stop };
}

/**
 * Builds TEST_IMAGE by `podman import` of a rootfs tarball: static busybox, a few applet
 * links and the serve script. Nothing is pulled.
 */
export async function buildTestImage(engine: PodmanEngine, tag = TEST_IMAGE): Promise<string> {
  const rootfs = join(engine.dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'mkdir', 'cp', 'cat', 'echo', 'printf', 'kill', 'sleep'])
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'bin/serve'), SERVE_SCRIPT, { mode: 0o755 });
  mkdirSync(join(rootfs, 'www/cgi-bin'), { recursive: true });
  writeFileSync(join(rootfs, 'www/cgi-bin/slow'), SLOW_CGI, { mode: 0o755 });
  const tarball = join(engine.dir, 'rootfs.tar');
  await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
  await engine.podman('import', '--change', 'CMD ["/bin/serve"]', '--change', 'ENV PATH=/bin', tarball, tag);
  rmSync(rootfs, { recursive: true, force: true });
  return tag;
}
