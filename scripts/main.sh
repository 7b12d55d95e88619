#!/usr/bin/env bash
# The main job: brings up the example compose project (examples/) with three web replicas and a worker
# built from a Dockerfile, then says how to reach it. Idempotent: run it again and only what changed
# is recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# busybox:latest from Debian's busybox-static, loaded once (no Docker Hub here).
if ! tsswarm image inspect busybox:latest >/dev/null 2>&1; then
  tar=$(mktemp /tmp/busybox-image.XXXXXX.tar)
  trap 'rm -f "$tar"' EXIT
  node --import tsx scripts/busybox-image.ts "$tar"
  tsswarm load -i "$tar"
fi

tscompose -f examples/compose.yaml up -d --scale web=3
tscompose -f examples/compose.yaml ps

cat <<'MSG'

The example is up: three busybox httpd replicas behind the service name "web", and a worker that
polls http://web/. The name answers with all three replicas, in rotating order (glibc's resolver
then prefers the closest address, so one client tends to stay on one replica, as with Docker).

  tscompose -f examples/compose.yaml exec worker nslookup web             # all three, rotating
  tscompose -f examples/compose.yaml exec worker wget -qO- http://web/    # ask web from inside
  tscompose -f examples/compose.yaml logs -f worker                       # the worker's polling
  tscompose -f examples/compose.yaml down                                 # stop and remove it all
MSG
