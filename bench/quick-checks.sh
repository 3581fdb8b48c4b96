#!/bin/sh
# The developer-facing quick checks (bench/README.md): `bp --version` against `node -e 0` (target:
# within 1.3x), and `bp plan examples/env.yaml` wall time, for this tree and optionally for another
# built tree (the "before" of a change), with hyperfine (apt-get install hyperfine).
# Prints the median of RUNS runs of each (hyperfine runs all runs of one command, then the next)
# and the ratios.
#
#   bench/quick-checks.sh [RUNS=15] [BASE_TREE]
#
# BASE_TREE: a checkout of the "before" commit with `npm run build` done, e.g.
#   git worktree add /tmp/bp-base <rev> && (cd /tmp/bp-base && ln -s "$PWD/../node_modules" . && npm run build)
set -eu
RUNS=${1:-15}
BASE=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d)
STATE=$OUT/state
trap 'rm -rf "$OUT"' EXIT

set -- -n node 'node -e 0' -n "bp --version" "$ROOT/bin/bp --version" \
  -n "bp plan" "$ROOT/bin/bp plan $ROOT/examples/env.yaml --refresh=false --state-dir $STATE"
if [ -n "$BASE" ]; then
  set -- "$@" -n "base: bp --version" "$BASE/bin/bp --version" \
    -n "base: bp plan" "$BASE/bin/bp plan $BASE/examples/env.yaml --refresh=false --state-dir $STATE"
fi
# bp plan exits 2 when the plan has changes (docs/design.md#command-line): not a failure here.
hyperfine -N --warmup 2 --runs "$RUNS" -i --export-json "$OUT/r.json" --style none "$@" >/dev/null
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const med = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
const os = require("os");
console.log(`${new Date().toISOString()} node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}, median of ${process.argv[2]} runs`);
for (const x of r) console.log(`${x.command.padEnd(20)} ${(x.median * 1000).toFixed(0).padStart(6)} ms  (min ${(x.min * 1000).toFixed(0)}, max ${(x.max * 1000).toFixed(0)})`);
console.log(`bp --version / node -e 0: ${(med["bp --version"] / med.node).toFixed(2)}x (target <= 1.3x)`);
if (med["base: bp plan"]) {
  console.log(`base: bp --version / node -e 0: ${(med["base: bp --version"] / med.node).toFixed(2)}x`);
  console.log(`bp plan, this tree / base: ${(med["bp plan"] / med["base: bp plan"]).toFixed(2)}x`);
}
' "$OUT/r.json" "$RUNS"
