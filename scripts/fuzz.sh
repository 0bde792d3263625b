#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 60 s each) on the stable
# toolchain (RUSTC_BOOTSTRAP=1, no sanitizer) and prints executions and findings.
# Record the results in docs/reliability.md.   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in import_movements import_drug_tests import_events event_decoding; do
  mkdir -p "corpus/$target"
  echo "== $target (${seconds}s)"
  cargo fuzz run --sanitizer none "$target" "corpus/$target" -- -max_total_time="$seconds" 2>&1 \
    | grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs|crash-|panicked|SUMMARY" || true
  if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "FINDINGS in fuzz/artifacts/$target"
  else
    echo "no crashes"
  fi
done
