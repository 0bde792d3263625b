#!/usr/bin/env bash
# The long crash soak (issue: durability): 100 SIGKILLs of the real server per
# backend while a client records events, then checks that every acknowledged event
# is in the log and the chain verifies. Prints one summary line per backend; record
# the results in docs/reliability.md.
#   scripts/soak.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-100}"
cargo build --quiet -p throughcare --tests
run() {
  THROUGHCARE_CRASH_ROUNDS="$rounds" cargo test --quiet -p throughcare --test crash -- --nocapture 2>&1 | grep -E "crash test:|test result"
}
echo "SQLite:"
run
echo "PostgreSQL:"
THROUGHCARE_TEST_BACKEND=postgres scripts/with-postgres.sh bash -c "$(declare -f run); rounds=$rounds; run"
