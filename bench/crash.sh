#!/usr/bin/env bash
# The long crash run of issue 16: the harness of test/snapshotter/crash.test.ts with 100 builds
# killed with SIGKILL (KILN_CRASH_ITERATIONS, KILN_CRASH_SEED to change or repeat a run). Prints
# the seed, where each build was killed, how many were killed mid-build and needed recovery.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build:ts
KILN_CRASH_ITERATIONS="${KILN_CRASH_ITERATIONS:-100}" node --test --test-reporter=spec dist/test/snapshotter/crash.test.js
