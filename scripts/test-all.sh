#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian/Ubuntu machine (`npm run test:all`):
# installs the system packages the tests run for real (nginx, wrk, sshd, PostgreSQL, podman,
# Prometheus...) when missing, installs npm dependencies when node_modules is absent, then runs
# vitest with any arguments given. .ci/run calls this same script.
set -uo pipefail
cd "$(dirname "$0")/.."

packages=(nginx wrk openssh-server openssh-client postgresql-15 podman runc busybox-static slirp4netns uidmap prometheus openssl)
need=()
for pkg in "${packages[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
# The k8s tests drive a real kubectl against the fake API server; Debian's client serves when none is on PATH.
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${need[*]} (apt-get; log in /tmp/bp-test-apt.log)"
  (export DEBIAN_FRONTEND=noninteractive; $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${need[@]}") \
    >/tmp/bp-test-apt.log 2>&1 \
    || echo "warning: apt-get install ${need[*]} failed (see /tmp/bp-test-apt.log); tests that need them will fail"
fi

if [ ! -d node_modules ] || [ "${BP_NPM_CI:-0}" = "1" ]; then
  npm ci --no-audit --no-fund || { echo "npm ci failed"; exit 1; }
fi

exec npx vitest run "$@"
