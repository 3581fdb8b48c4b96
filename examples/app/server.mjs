// A tiny dependency-free HTTP service for trying bp: answers with its version, which
// comes from the environment, so two revisions of it are easy to tell apart.
//
//   GET /            -> "<GREETING> from <VERSION>\n"
//   GET /healthz     -> "ok\n"
//   GET /slow?ms=N   -> answers after N milliseconds (to watch draining at work)
//   POST /echo       -> streams the request body back
//   anything else    -> 404
// ERROR_RATE=0.3 makes that share of GET / answer 500 (a bad canary, for trying rollbacks).
import http from 'node:http';

const port = Number(process.env.PORT ?? 8000);
const host = process.env.HOST ?? '127.0.0.1';
const version = process.env.VERSION ?? 'unknown';
const greeting = process.env.GREETING ?? 'hello';
const errorRate = Math.min(Math.max(Number(process.env.ERROR_RATE ?? 0) || 0, 0), 1);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.setHeader('x-version', version);
  if (url.pathname === '/healthz') {
    res.end('ok\n');
  } else if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 1000), 60_000);
    setTimeout(() => res.end(`${greeting} from ${version} after ${ms}ms\n`), ms);
  } else if (url.pathname === '/echo' && req.method === 'POST') {
    req.pipe(res);
  } else if (url.pathname === '/' && Math.random() < errorRate) {
    res.statusCode = 500;
    res.end(`${version} failed (injected)\n`);
  } else if (url.pathname === '/') {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`${greeting} from ${version}\n`);
  } else {
    res.statusCode = 404;
    res.end('not found\n');
  }
});

server.listen(port, host, () => console.log(`${version} listening on http://${host}:${port}`));

// Finish what is in flight, then exit: bp sends SIGTERM once the router has moved traffic away.
process.on('SIGTERM', () => {
  console.log(`${version} stopping`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
