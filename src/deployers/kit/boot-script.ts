/**
 * The shell the VM deployers' boot scripts are made of (aws-ec2 user data, the gcp-compute
 * startup-script, azure-vm custom data and boot.sh): one quoting, one strict-mode start, one
 * env-file format per reader, one `docker run`, and one way to call an API with a token of the
 * VM's own identity. Each deployer assembles these with what is its own: the metadata server,
 * the secret store's API, the registry login, the GPU set-up.
 */
import type { BootSecret } from './boot-secrets.js';

/** The start of every boot script: bash, stopping at the first failure, files private to root. */
export function scriptHead(comment?: string): string[] {
  return ['#!/bin/bash', ...(comment ? [`# ${comment}`] : []), 'set -euo pipefail', 'umask 077'];
}

/** Env file lines: Docker's --env-file takes values verbatim; systemd's EnvironmentFile wants them quoted. */
export function envFileLines(env: Record<string, string>, reader: 'docker' | 'systemd'): string[] {
  return Object.entries(env).map(([k, v]) => (reader === 'docker' ? `${k}=${v}` : `${k}=${JSON.stringify(v)}`));
}

/** Lines writing an env file (a quoted here-document: the shell expands nothing in the values). */
export function writeEnvFile(path: string, env: Record<string, string>, reader: 'docker' | 'systemd'): string[] {
  return [`cat > ${path} <<'BP_ENV_EOF'`, ...envFileLines(env, reader), 'BP_ENV_EOF'];
}

/** The `docker run` options of a revision's container: its name, extra flags (GPUs), the env file, PORT published. */
export function dockerRunArgs(o: {
  name: string;
  flags?: string;
  envFile: string;
  port: number;
  image: string;
}): string {
  return `--name ${o.name}${o.flags ?? ''} --env-file ${o.envFile} -p ${o.port}:${o.port} ${shellQuote(o.image)}`;
}

/**
 * A shell function `bp_token` printing an access token of the VM's identity: `request` is curl's
 * view of the metadata server (headers, URL), `extract` cuts the token out of its JSON answer.
 */
export function tokenFunction(request: string, extract: string): string[] {
  return ['bp_token() {', `  curl -fsS --retry 10 --retry-connrefused ${request} |`, `    ${extract}`, '}'];
}

/**
 * A GET of `url` with the token `tokenCommand` prints (`bp_token` and its arguments) as the
 * bearer: curl reads the header from stdin, so the token is on no command line `ps` shows.
 */
export function bearerGet(url: string, tokenCommand = 'bp_token'): string {
  return `printf 'Authorization: Bearer %s\\n' "$(${tokenCommand})" | curl -fsS --retry 5 -H @- ${shellQuote(url)}`;
}

/** A POSIX shell single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Selects `#KEY` of a JSON secret on the VM, as bp's own resolver does: a string as is, any
 * other JSON value serialized. python3 is on every cloud-init image (cloud-init is Python).
 */
export function jsonKeyFilter(key: string): string {
  return (
    `python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; ` +
    `sys.stdout.write(v if isinstance(v,str) else json.dumps(v,separators=(",",":")))' ${shellQuote(key)}`
  );
}

/**
 * Shell lines that put the fetched secrets into the env files: `fetch(secret)` is a command
 * printing the value. Each value goes through a variable (never a command line, never
 * echoed: no `set -x`) and a function that refuses multi-line values (env files are
 * one line per variable) and appends it to each file in its format.
 */
export function secretLines(
  secrets: BootSecret[],
  fetch: (s: BootSecret) => string,
  files: { docker?: string; systemd?: string },
): string[] {
  if (secrets.length === 0) return [];
  const put = [
    'bp_put() {',
    `  case "$2" in *$'\\n'*|*$'\\r'*) echo "bp: the secret of $1 has several lines; an env file takes one" >&2; exit 1;; esac`,
    ...(files.docker ? [`  printf '%s=%s\\n' "$1" "$2" >> ${files.docker}`] : []),
    ...(files.systemd
      ? [`  printf '%s="%s"\\n' "$1" "$(printf '%s' "$2" | sed 's/[\\\\"]/\\\\&/g')" >> ${files.systemd}`]
      : []),
    '}',
  ];
  const lines = ['# Secrets: fetched now with the VM identity; this script holds references only.', ...put];
  for (const s of secrets) {
    lines.push(`# ${s.name} <- ${s.text}`, `bp_v=$(${fetch(s)})`, `bp_put ${s.name} "$bp_v"`);
  }
  lines.push('unset bp_v');
  return lines;
}
