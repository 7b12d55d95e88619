#!/usr/bin/env bash
# A swarm of N nodes on this machine, each a network namespace with its own daemon (see README,
# "A cluster on one machine"). Needs root and a built tree (./scripts/setup.sh).
#   scripts/cluster.sh up N [--managers M] | exec K CMD… | kill K | start K | cut K | heal K | down
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx scripts/cluster/cluster.ts "$@"
