#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL for tests and benchmarks, on
# 127.0.0.1 only, never as root (as root it runs as the dedicated OS user
# taskmind-pg, created on first use).
#
#   scripts/pg.sh start   # prints: export TASKMIND_TEST_DATABASE_URL=postgres://...
#   scripts/pg.sh stop
set -euo pipefail

DIR="${TASKMIND_PG_DIR:-/tmp/taskmind-pg-$(id -u)}"
PORT="${TASKMIND_PG_PORT:-55432}"

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  return 1
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u taskmind-pg -- "$@"
  else
    "$@"
  fi
}

start() {
  BIN=$(find_bin) || { echo "pg.sh: PostgreSQL server binaries (initdb) not found; install postgresql" >&2; exit 1; }
  if [[ $(id -u) -eq 0 ]] && ! id taskmind-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin taskmind-pg
  fi
  if [[ -f "$DIR/data/postmaster.pid" ]] && as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    :
  else
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [[ $(id -u) -eq 0 ]] && chown taskmind-pg "$DIR"
    as_pg "$BIN/initdb" -D "$DIR/data" -U taskmind --auth=trust --encoding=UTF8 --no-locale >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; exit 1; }
    # Tuned for throwaway test data: no fsync, more connections for load tests.
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null ||
      { cat "$DIR/server.log" >&2; exit 1; }
  fi
  echo "export TASKMIND_TEST_DATABASE_URL=postgres://taskmind@127.0.0.1:$PORT/postgres?sslmode=disable"
}

stop() {
  BIN=$(find_bin) || exit 0
  if [[ -d "$DIR/data" ]]; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
