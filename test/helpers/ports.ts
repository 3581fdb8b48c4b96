import net from 'node:net';

/**
 * Ports for servers a test names in an env file (a router's `listen`, a fixture server).
 *
 * They come from 20000-32767, below the kernel's ephemeral range (32768-60999 here): a port
 * the kernel picked for `listen(0)` and released was once handed out again, before the
 * router bound it, to another test's `listen(0)`, a replica bp started, or an outgoing
 * connection (the canary setup's "apply exits 1 under load" flake). Nothing takes ports
 * from this range by itself, each test process walks its own random stride through it and
 * never returns a port twice, and each port is checked free by binding it. A caller that
 * still loses a race sees "already in use" and retries with fresh ports (canary-fixture.ts).
 */
const LOW = 20_000;
const HIGH = 32_767;
const SPAN = HIGH - LOW + 1;
let cursor = Math.floor(Math.random() * SPAN);
// A prime stride walks the whole range before repeating; the offset by pid keeps the
// parallel test processes of one run apart.
const STRIDE = 7919;
cursor = (cursor + (process.pid % 997) * 13) % SPAN;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback TCP port outside the ephemeral range that is free now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    cursor = (cursor + STRIDE) % SPAN;
    const port = LOW + cursor;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${LOW}-${HIGH} after 200 tries`);
}
