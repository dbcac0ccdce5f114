#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL cluster:
#   scripts/with_postgres.sh CMD [ARGS...]   start a cluster in a temporary folder on a free loopback
#                                            port, run CMD with DATABASE_URL pointing at it, stop it.
#   scripts/with_postgres.sh --available     exit 0 when PostgreSQL's binaries are installed.
# initdb refuses to run as root, so as root the cluster runs as the unprivileged 'postgres' user
# (created when missing).
set -euo pipefail

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then pg_config --bindir; return; fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  done
  return 1
}

BINDIR=$(find_bindir) || { [ "${1:-}" = "--available" ] && exit 1; echo "PostgreSQL binaries not found" >&2; exit 1; }
[ "${1:-}" = "--available" ] && exit 0

TMP=$(mktemp -d /tmp/shafaf-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUN=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  chown postgres "$TMP"
  RUN=(runuser -u postgres --)
fi

cleanup() {
  "${RUN[@]}" "$BINDIR/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"${RUN[@]}" "$BINDIR/initdb" -D "$TMP/data" -U shafaf -A trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
  || { cat "$TMP/initdb.log" >&2; exit 1; }
"${RUN[@]}" "$BINDIR/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
  start >/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
export DATABASE_URL="postgres://shafaf@127.0.0.1:$PORT/postgres"
set +e
"$@"
status=$?
set -e
exit $status
