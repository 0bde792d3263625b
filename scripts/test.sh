#!/usr/bin/env bash
# Runs the whole Throughcare test suite on a fresh machine. Installs what the tests
# need when missing (Debian's chromium and chromium-driver for the browser test,
# libreoffice-calc-nogui to open the XLSX returns, postgresql for the PostgreSQL
# backend), starts a throwaway PostgreSQL cluster,
# then checks formatting and lints and runs every test: the store conformance suite
# on both backends, and the server tests once per backend.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
need_office=()
command -v soffice >/dev/null 2>&1 || need_office+=(libreoffice-calc-nogui)
if [ $((${#need_apt[@]} + ${#need_office[@]})) -gt 0 ]; then
  echo "Installing ${need_apt[*]} ${need_office[*]} for the browser and XLSX tests..."
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_office[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_office[@]}" >/dev/null
  fi
fi

if [ "${1:-}" != "--inside-postgres" ]; then
  cargo fmt --all -- --check
  cargo clippy --all-targets --locked -- -D warnings
fi

if [ "${1:-}" != "--inside-postgres" ]; then
  exec scripts/with-postgres.sh "$0" --inside-postgres
fi

export THROUGHCARE_REQUIRE_POSTGRES=1
export THROUGHCARE_REQUIRE_LIBREOFFICE=1
if cargo nextest --version >/dev/null 2>&1; then
  echo "== Server tests on PostgreSQL =="
  THROUGHCARE_TEST_BACKEND=postgres cargo nextest run -p throughcare --locked --no-fail-fast --test access --test http --test care_journey --test throughcare --test governance --test kiosk --test returns --test browser --test concurrency --test crash --test operations --test submissions --test ndtms --test information_requests
  echo "== Everything (server tests on SQLite; store conformance on both) =="
  # (No doctests in the workspace: nextest runs every test there is.)
  cargo nextest run --workspace --locked --no-fail-fast
else
  THROUGHCARE_TEST_BACKEND=postgres cargo test -p throughcare --locked --no-fail-fast --test access --test http --test care_journey --test throughcare --test governance --test kiosk --test returns --test browser --test concurrency --test crash --test operations --test submissions --test ndtms --test information_requests
  cargo test --workspace --locked --no-fail-fast
fi
