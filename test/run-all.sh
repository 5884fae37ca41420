#!/usr/bin/env bash
# Runs every test: TypeScript (node's test runner, over the compiled dist/) and native/ (cargo test
# of the addon, the helper and the confinement crate they share),
# then prints one combined summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run -s build:ts || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log" "${node_log:-}"' EXIT

# Test files run one at a time: many of them mount overlays and start servers, and two cores
# are better spent inside one test than racing between them.
node --test --test-concurrency=1 --test-reporter=spec dist/test/ 2>&1 | tee "$log"
node_rc=${PIPESTATUS[0]}
node_pass=$(grep -E '^ℹ pass ' "$log" | awk '{print $3}')
node_fail=$(grep -E '^ℹ fail ' "$log" | awk '{print $3}')
node_skip=$(grep -E '^ℹ skipped ' "$log" | awk '{print $3}')
node_log=$(mktemp)
cp "$log" "$node_log"

{
  cargo test --manifest-path native/Cargo.toml --release
  native_rc=$?
  cargo test --manifest-path native/helper/Cargo.toml --release
  helper_rc=$?
  cargo test --manifest-path native/confine/Cargo.toml --release
  confine_rc=$?
  [ "$native_rc" -eq 0 ] && [ "$helper_rc" -eq 0 ] && [ "$confine_rc" -eq 0 ]
} 2>&1 | tee "$log"
cargo_rc=${PIPESTATUS[0]}
cargo_pass=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
cargo_fail=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')

pass=$(( ${node_pass:-0} + ${cargo_pass:-0} ))
fail=$(( ${node_fail:-0} + ${cargo_fail:-0} ))
skip=${node_skip:-0}
if [ "$node_rc" -ne 0 ] || [ "$cargo_rc" -ne 0 ]; then
  [ "$fail" -eq 0 ] && fail=1
fi
echo
# A skipped test says why, in the summary: the spec reporter marks it "﹣ NAME (…) # REASON".
if [ "$skip" -gt 0 ]; then grep -E '^\s*﹣ ' "$node_log" | sed -E 's/^\s*﹣ /skipped: /'; fi
echo "node: ${node_pass:-0} passed, ${node_fail:-0} failed, ${skip} skipped; cargo: ${cargo_pass:-0} passed, ${cargo_fail:-0} failed"
echo "kiln: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
