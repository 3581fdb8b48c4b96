#!/usr/bin/env bash
# Router benchmark: requests/second and p50/p99 latency with wrk, in one run, against
#   1. the backend directly (examples/app/server.mjs),
#   2. bp's router splitting 90/10 over two backends,
#   3. nginx with split_clients splitting 90/10 over the same two backends.
# Needs nginx and wrk (apt-get install -y nginx wrk). Usage: bench/router/run.sh [SECONDS] [CONNECTIONS]
set -euo pipefail

DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
THREADS="${THREADS:-2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d -t bp-bench-XXXXXX)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in nginx wrk node; do
  command -v "$tool" >/dev/null || { echo "bench/router: $tool is not installed" >&2; exit 1; }
done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() {
  for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/router: $1 did not come up" >&2; exit 1
}

V1=$(free_port); V2=$(free_port); ROUTER=$(free_port); NGINX=$(free_port)

PORT=$V1 VERSION=v1 node "$ROOT/examples/app/server.mjs" >"$WORK/v1.log" 2>&1 & PIDS+=($!)
PORT=$V2 VERSION=v2 node "$ROOT/examples/app/server.mjs" >"$WORK/v2.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$V1/healthz"; wait_http "http://127.0.0.1:$V2/healthz"

# bp's router, compiled if dist/ is built, else from source through tsx.
if [[ -f "$ROOT/dist/router/main.js" ]]; then ROUTER_CMD=(node "$ROOT/dist/router/main.js")
else ROUTER_CMD=(node --import tsx "$ROOT/src/router/main.ts"); fi
cat >"$WORK/router.json" <<JSON
{ "deployment_id": "bench", "draining": [], "entries": [
  { "revision_id": "v1", "weight_bps": 9000, "backends": ["http://127.0.0.1:$V1"], "health_path": "/healthz" },
  { "revision_id": "v2", "weight_bps": 1000, "backends": ["http://127.0.0.1:$V2"], "health_path": "/healthz" } ] }
JSON
(cd "$ROOT" && exec env BP_ROUTER_TOKEN=bench "${ROUTER_CMD[@]}" --listen "127.0.0.1:$ROUTER" \
  --config "$WORK/router.json" --ready-file "$WORK/router.ready" >"$WORK/router.log" 2>&1) & PIDS+=($!)
wait_http "http://127.0.0.1:$ROUTER/healthz"

# nginx with the same split; one worker, like the single-process router. $request_id makes
# split_clients decide per request rather than per client.
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy;
  fastcgi_temp_path $WORK/fcgi; uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
  upstream v1 { server 127.0.0.1:$V1; keepalive 64; }
  upstream v2 { server 127.0.0.1:$V2; keepalive 64; }
  split_clients "\$request_id" \$pool { 90% v1; * v2; }
  server {
    listen 127.0.0.1:$NGINX;
    location / {
      proxy_pass http://\$pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"
wait_http "http://127.0.0.1:$NGINX/healthz"

run() {
  local name="$1" url="$2" out
  wrk -t1 -c4 -d2s "$url" >/dev/null # warm up JITs and connection pools
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${errors:-none}"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, $(node --version), $(nginx -v 2>&1 | sed 's/.*: //')"
echo
echo '| target | requests/s | p50 | p99 | errors |'
echo '|---|---|---|---|---|'
run "backend direct" "http://127.0.0.1:$V1/"
run "bp router 90/10" "http://127.0.0.1:$ROUTER/"
run "nginx split_clients 90/10" "http://127.0.0.1:$NGINX/"

# Sanity: both splits really split (count over 1,000 requests each).
for target in "bp router:$ROUTER" "nginx:$NGINX"; do
  port="${target##*:}"
  v2=$(for _ in $(seq 1000); do curl -s "http://127.0.0.1:$port/"; done | grep -c 'from v2' || true)
  echo "${target%%:*}: $v2 of 1000 requests went to v2"
done
