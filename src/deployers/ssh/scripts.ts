/**
 * The constant POSIX sh scripts bp runs on hosts. They take everything variable as
 * positional parameters (quoted by `scriptCommand`) or, for env values, as an `envScript`
 * on stdin; none is ever assembled from input. Process identity is pid + start time
 * (field 22 of /proc/PID/stat), so a recycled pid is never mistaken for ours.
 */
import { argvDigest } from './artifact.js';

/** Prints "STATE STARTTIME" of a pid, or nothing when it is gone. */
const STAT_FN = `stat_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1,20; }`;

/**
 * $1 cwd, $2 log file, $3 record file, $4 port, $5 argv digest, $6... argv; stdin: env script.
 * Writes the revision's env file (revision.env, 0600, beside the record) from stdin, then
 * starts argv in a new session (setsid), detached from the SSH session, with only PATH, HOME,
 * PORT and that file's variables (env -i: nothing of the SSH session's environment), and
 * records it. Prints "PID STARTTIME".
 */
export const START_REPLICA = `${STAT_FN}
_bp_dir=$1 _bp_log=$2 _bp_rec=$3 _bp_port=$4 _bp_digest=$5
shift 5
cd "$_bp_dir" || { echo "cannot enter $_bp_dir" >&2; exit 97; }
mkdir -p "$(dirname "$_bp_rec")"
(umask 077; : >>"$_bp_log")
_bp_env="$(dirname "$_bp_rec")/revision.env"
(umask 077; cat >"$_bp_env.$$") && mv -f "$_bp_env.$$" "$_bp_env" || exit 96
setsid nohup env -i PATH="$PATH" HOME="$HOME" PORT="$_bp_port" \\
  sh -c '. "$1" && shift && exec "$@"' bp-env "$_bp_env" "$@" </dev/null >>"$_bp_log" 2>&1 &
_bp_pid=$!
_bp_st=$(stat_of "$_bp_pid" | cut -d' ' -f2)
[ -n "$_bp_st" ] || { echo "the process exited at once" >&2; tail -n 5 "$_bp_log" >&2; exit 98; }
(umask 077; printf '%s %s %s %s\\n' "$_bp_pid" "$_bp_st" "$_bp_port" "$_bp_digest" >"$_bp_rec.tmp") && mv -f "$_bp_rec.tmp" "$_bp_rec"
printf '%s %s\\n' "$_bp_pid" "$_bp_st"
`;

/** START_REPLICA's arguments: cwd, log, record, port, argv digest, argv. */
export function startReplicaArgs(cwd: string, runDir: string, index: number, port: number, argv: string[]): string[] {
  const files = `${runDir}/replica-${index}`;
  return [cwd, `${files}.log`, `${files}.rec`, String(port), argvDigest(argv), ...argv];
}

/**
 * $1 run dir, $2 revision (empty: all). For every replica record prints
 * "REVISION INDEX PID STARTTIME PORT DIGEST STATE CURRENT_STARTTIME" ("- -" when gone).
 */
export const READ_REPLICAS = `${STAT_FN}
cd "$1" 2>/dev/null || exit 0
if [ -n "$2" ]; then set -- "$2"/replica-*.rec; else set -- */replica-*.rec; fi
for f in "$@"; do
  [ -f "$f" ] || continue
  rev=\${f%%/*}; n=\${f##*/replica-}; n=\${n%.rec}
  pid= st= port= digest=
  read -r pid st port digest <"$f" || true
  cur=$(stat_of "$pid")
  printf '%s %s %s %s %s %s %s\\n' "$rev" "$n" "$pid" "$st" "$port" "$digest" "\${cur:-- -}"
done
`;

/** Stops "$pairs" ("PID STARTTIME ..."): SIGTERM to each process group still ours, SIGKILL after $grace ms. */
const STOP_FN = `running() { s=$(stat_of "$1"); [ "\${s#* }" = "$2" ] && [ "\${s%% *}" != Z ] && [ "\${s%% *}" != X ]; }
ours() { s=$(stat_of "$1"); [ -n "$s" ] && [ "\${s#* }" = "$2" ]; }
signal_all() { sig=$1; set -- $pairs; while [ $# -ge 2 ]; do
  if ours "$1" "$2"; then kill -s "$sig" -- "-$1" 2>/dev/null || kill -s "$sig" "$1" 2>/dev/null || true; fi
  shift 2; done; }
any_running() { set -- $pairs; while [ $# -ge 2 ]; do running "$1" "$2" && return 0; shift 2; done; return 1; }
stop_pairs() {
  case $pairs in *[!0-9[:space:]]*) echo "a process record is corrupt: $pairs" >&2; exit 4 ;; esac
  [ -n "$pairs" ] || return 0
  signal_all TERM
  i=0; while any_running && [ "$i" -lt $((grace / 100)) ]; do sleep 0.1; i=$((i + 1)); done
  signal_all KILL
  i=0; while any_running && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if any_running; then echo "a process survived SIGKILL" >&2; exit 3; fi
}`;

/** $1 grace in ms, then pairs "PID STARTTIME" (digits only). */
export const STOP_PROCESSES = `${STAT_FN}
${STOP_FN}
grace=$1; shift
pairs="$*"
stop_pairs
`;

/**
 * $1 grace in ms, $2 a revision's run dir, $3... paths to remove afterwards. Stops every
 * replica recorded in the run dir, forgets the records, removes the paths: one round trip.
 */
export const STOP_REVISION = `${STAT_FN}
${STOP_FN}
grace=$1 run=$2
shift 2
pairs=$(cat "$run"/replica-*.rec 2>/dev/null | cut -d' ' -f1,2 | tr '\\n' ' ')
stop_pairs
rm -f -- "$run"/replica-*.rec
[ $# -eq 0 ] || rm -rf -- "$@"
`;

/** $@ paths: removes each, recursively. */
export const REMOVE = `rm -rf -- "$@"`;

/** $1 path; stdin: content. Writes it atomically, readable by the user only. */
export const WRITE_FILE = `umask 077
mkdir -p "$(dirname "$1")" && cat >"$1.tmp" && mv -f "$1.tmp" "$1"`;

/** $1 path: prints it; exit 3 when absent. */
export const READ_FILE = `[ -f "$1" ] || exit 3
cat -- "$1"`;

/** $1 file, $2 line count: the last lines of a log. */
export const TAIL = `tail -n "$2" -- "$1" 2>/dev/null || echo "(no log)"`;

/** $1 directory the program runs in, $2 program: exit 0 when it can be executed there. */
export const CHECK_PROGRAM = `cd "$1" 2>/dev/null || cd /
case $2 in
  */*) [ -f "$2" ] && [ -x "$2" ] ;;
  *) command -v -- "$2" >/dev/null 2>&1 ;;
esac`;

/** $@ directories to create. */
export const MAKE_DIRS = `mkdir -p -- "$@"`;

/** $1 directory, $2... files relative to it: "SHA256  FILE" per file. */
export const CHECKSUMS = `cd "$1" && shift && sha256sum -- "$@"`;

/**
 * $1 staging dir, $2 final dir, $3 marker file, $4 digest: swaps a verified upload into
 * place and records its digest (the marker is what makes a later stage a no-op).
 */
export const COMMIT_UPLOAD = `rm -rf -- "$2" && mkdir -p "$(dirname "$2")" "$(dirname "$3")" && mv -- "$1" "$2" \\
  && (umask 077; printf '%s\\n' "$4" >"$3.tmp") && mv -f "$3.tmp" "$3"`;

/**
 * $1 router dir, $2 log, $3 ready file, $4 token file, $5... router argv; stdin: the admin
 * token, written to the 0600 token file the router reads and deletes (--token-file). Starts
 * the router detached with only PATH and HOME, and waits (up to 20 s) for its ready file.
 * Prints "PID STARTTIME" then the ready file's JSON (absent when it never got ready).
 */
export const START_ROUTER = `${STAT_FN}
_bp_dir=$1 _bp_log=$2 _bp_ready=$3 _bp_token=$4
shift 4
cd "$_bp_dir" || exit 97
rm -f -- "$_bp_ready"
(umask 077; : >>"$_bp_log"; cat >"$_bp_token") || exit 96
setsid nohup env -i PATH="$PATH" HOME="$HOME" "$@" </dev/null >>"$_bp_log" 2>&1 &
_bp_pid=$!
_bp_st=$(stat_of "$_bp_pid" | cut -d' ' -f2)
_bp_i=0
while [ ! -s "$_bp_ready" ] && [ "$_bp_i" -lt 200 ] && [ -d "/proc/$_bp_pid" ]; do sleep 0.1; _bp_i=$((_bp_i + 1)); done
printf '%s %s\\n' "$_bp_pid" "\${_bp_st:-0}"
cat -- "$_bp_ready" 2>/dev/null || true
`;

/**
 * $1 routers dir. For every router record prints "DEPLOYMENT STATE CURRENT_STARTTIME" then
 * the record's line ("PID STARTTIME ADMIN_PORT LISTEN TOKEN METRICS_LISTEN METRICS_REQUESTED|-"; routers
 * started before metrics existed lack the last two).
 */
export const READ_ROUTERS = `${STAT_FN}
cd "$1" 2>/dev/null || exit 0
for f in */router.rec; do
  [ -f "$f" ] || continue
  dep=\${f%%/*}
  pid= rest=
  read -r pid rest <"$f" || true
  cur=$(stat_of "$pid")
  printf '%s %s\\n' "$dep" "\${cur:-- -}"
  head -n 1 -- "$f"
done
`;

/** Prints free TCP ports on $2 (count $1), one per line; run with node -e. */
export const FREE_PORTS_JS = `const net = require('node:net');
const n = Number(process.argv[1]); const host = process.argv[2]; const servers = [];
(async () => {
  for (let i = 0; i < n; i++) {
    const s = net.createServer(); servers.push(s);
    await new Promise((ok, fail) => { s.once('error', fail); s.listen(0, host, ok); });
  }
  console.log(servers.map((s) => s.address().port).join('\\n'));
  for (const s of servers) s.close();
})().catch((e) => { console.error(e.message); process.exit(1); });`;
