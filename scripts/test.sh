#!/usr/bin/env bash
# Runs every test (type check, unit, then end-to-end) after an idempotent set-up.
# This is the README's test command, and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npx tsc --noEmit -p .
npx mocha '{cli,runtime,manager,agent,network,compose-spec,image,lib}/**/*.test.ts'
npx mocha 'e2e/**/*.test.ts'
