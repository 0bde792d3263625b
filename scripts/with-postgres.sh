#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: installs Debian's postgresql
# when missing, starts a cluster in a temporary directory on a free loopback port
# (as the unprivileged `postgres` user: initdb refuses root), exports
# THROUGHCARE_TEST_POSTGRES_URL for the tests, and removes the cluster afterwards.
#   scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/initdb" ]; then
  echo "Installing PostgreSQL for the tests..."
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PGBIN="$(bin_dir)"

dir="$(mktemp -d /tmp/throughcare-pg.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    chown -R postgres "$dir"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

chmod 755 "$dir"
as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $port -k $dir -c synchronous_commit=on -c fsync=on -c max_connections=200" start >/dev/null

export THROUGHCARE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
