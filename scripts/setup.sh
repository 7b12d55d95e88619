#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine (run as root): Debian packages, npm dependencies,
# native helpers and bundled CLIs, and the three commands on PATH. Skips whatever is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Debian packages the engine and its tests use.
pkgs=(runc busybox-static nftables iproute2 docker-registry skopeo iperf3 gcc libc6-dev zlib1g-dev util-linux etcd-server docker-compose)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a system service; tests run their own on loopback.
if systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi
# etcd-server is the raft benchmark's anchor, started by the benchmark on loopback; not a system service.
if systemctl is-active --quiet etcd 2>/dev/null; then systemctl stop etcd || true; systemctl disable etcd 2>/dev/null || true; fi

# npm dependencies, when the lock file changed since the last install.
stamp=node_modules/.tsswarm-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

node scripts/build.mjs >&2

for bin in tsswarm tscompose tsswarm-runtime; do
  if [[ -f dist/$bin.js ]]; then ln -sf "$root/dist/$bin.js" "/usr/local/bin/$bin"; fi
done
