#!/usr/bin/env bash
# Runs every test (type check, unit, then end-to-end) after an idempotent set-up.
# This is the README's test command, and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npx tsc --noEmit -p .

passed=0 failed=0 pending=0
# Runs one mocha suite, keeps its counts, and stops at the first failing suite.
suite() {
  local log rc
  log=$(mktemp)
  set +e
  npx mocha "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local clean
  clean=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  passed=$((passed + $(grep -oE '^ +[0-9]+ passing' <<<"$clean" | grep -oE '[0-9]+' || echo 0)))
  failed=$((failed + $(grep -oE '^ +[0-9]+ failing' <<<"$clean" | grep -oE '[0-9]+' || echo 0)))
  pending=$((pending + $(grep -oE '^ +[0-9]+ pending' <<<"$clean" | grep -oE '[0-9]+' || echo 0)))
  rm -f "$log"
  if ((rc != 0)); then
    echo "${passed} passed, $((failed > 0 ? failed : 1)) failed"
    exit "$rc"
  fi
}

suite '{api,node,cli,runtime,manager,agent,network,compose-spec,image,lib}/**/*.test.ts'
suite 'e2e/**/*.test.ts'
echo "${passed} passed, ${failed} failed, ${pending} skipped"
