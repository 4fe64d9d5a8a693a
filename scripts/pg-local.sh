#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests, the demo and benchmarks, living entirely in DIR.
#
#   pg-local.sh start DIR [PORT] [--durable]   initdb (first time), start, wait until ready
#   pg-local.sh stop  DIR [--immediate]        fast (or immediate: crash-like) shutdown; no-op when not running
#   pg-local.sh env   DIR                      print `export PG_HOST=...` lines for the shell
#
# Access (loopback only; the server listens on 127.0.0.1 and a socket in DIR/socket):
#   postgres / postgres     superuser; `trust`, so any password (or none) is accepted
#   pg2ch_test / pg2ch_test LOGIN REPLICATION, not superuser; scram-sha-256 enforced, so wrong
#                           passwords fail (auth tests) and missing privileges show (permission tests)
# fsync and synchronous_commit are off unless --durable: tests measure pg2ch, not this VM's disk.
# Runs as root (the server then runs as `postgres`: initdb refuses root) or as any other user
# (the server then runs as that user).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SUPERUSER_PASSWORD=postgres
TEST_ROLE=pg2ch_test
TEST_ROLE_PASSWORD=pg2ch_test

usage() {
  echo "usage: $0 start DIR [PORT] [--durable] | stop DIR [--immediate] | env DIR" >&2
  exit 2
}

die() {
  echo "pg-local: $*" >&2
  exit 1
}

# Runs a command as postgres: initdb and pg_ctl refuse to run as root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Files written here by root must stay usable by the server, which runs as postgres.
give_to_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$@"
  fi
}

# A port nobody listens on now. Picked below the kernel's ephemeral range so outgoing
# connections cannot grab it between this check and the server's bind.
free_port() {
  perl -MIO::Socket::INET -e '
    for (1..200) {
      my $p = 20000 + int(rand(12000));
      my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p, Proto => "tcp", ReuseAddr => 1, Listen => 1);
      if ($s) { print "$p\n"; exit 0 }
    }
    exit 1' || die "no free TCP port found"
}

is_running() {
  [ -f "$DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

write_settings() {
  local port=$1 durability=off
  [ "$DURABLE" = 1 ] && durability=on
  # Rewritten on every start so the port and durability follow the latest command line.
  cat >"$DATA/pg2ch-local.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR/socket'
wal_level = logical
max_replication_slots = 40
max_wal_senders = 40
max_connections = 200
# Two-phase commit exists in production databases: the tests prepare transactions too.
max_prepared_transactions = 20
fsync = $durability
synchronous_commit = $durability
full_page_writes = $durability
log_min_messages = warning
EOF
  give_to_pg "$DATA/pg2ch-local.conf"
}

write_hba() {
  # First match wins: the test role must authenticate; everyone else is trusted on loopback.
  # `replication` rows cover physical walsenders; logical ones match the database rows.
  cat >"$DATA/pg_hba.conf" <<EOF
local all         all                      trust
local replication all                      trust
host  all         $TEST_ROLE   127.0.0.1/32 scram-sha-256
host  replication $TEST_ROLE   127.0.0.1/32 scram-sha-256
host  all         all          127.0.0.1/32 trust
host  replication all          127.0.0.1/32 trust
EOF
  give_to_pg "$DATA/pg_hba.conf"
}

init_cluster() {
  local sync=--no-sync
  [ "$DURABLE" = 1 ] && sync=
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 -A trust $sync >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; die "initdb failed (log: $DIR/initdb.log)"; }
  echo "include_if_exists = 'pg2ch-local.conf'" >>"$DATA/postgresql.conf"
  write_hba
}

create_roles() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/socket" -p "$1" -U postgres -d postgres <<EOF
ALTER ROLE postgres PASSWORD '$SUPERUSER_PASSWORD';
CREATE ROLE $TEST_ROLE LOGIN REPLICATION PASSWORD '$TEST_ROLE_PASSWORD';
EOF
}

# Starts on $1; returns non-zero when the server did not come up (e.g. the port was taken).
try_start() {
  write_settings "$1"
  : >"$DIR/postgres.log"
  give_to_pg "$DIR/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 60 start >/dev/null 2>&1 || return 1
  as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -t 30
}

cmd_start() {
  if is_running; then
    echo "pg-local: already running on port $(cat "$DIR/port")"
    return 0
  fi
  mkdir -p "$DIR/socket"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR" "$DIR/socket"
    runuser -u postgres -- test -w "$DIR" ||
      die "user postgres cannot write $DIR (a parent directory is not traversable?); use a directory under /tmp"
  fi
  local fresh=0
  if [ ! -f "$DATA/PG_VERSION" ]; then
    init_cluster
    fresh=1
  fi
  local port attempts=1
  # A port picked here can still be taken before the server binds it; pick again then.
  [ -z "$PORT" ] && attempts=5
  for ((i = 0; i < attempts; i++)); do
    port=${PORT:-$(free_port)}
    if try_start "$port"; then
      echo "$port" >"$DIR/port"
      [ "$fresh" = 1 ] && create_roles "$port"
      echo "pg-local: PostgreSQL ready on 127.0.0.1:$port (data $DATA)"
      return 0
    fi
  done
  tail -n 20 "$DIR/postgres.log" >&2 || true
  die "PostgreSQL did not start (log: $DIR/postgres.log)"
}

cmd_stop() {
  if ! is_running; then
    echo "pg-local: not running"
    return 0
  fi
  local mode=fast
  [ "$IMMEDIATE" = 1 ] && mode=immediate
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m "$mode" -w -t 60 stop >/dev/null
  echo "pg-local: stopped"
}

cmd_env() {
  [ -f "$DIR/port" ] || die "no server in $DIR (run: $0 start $DIR)"
  local port
  port=$(cat "$DIR/port")
  cat <<EOF
export PG_HOST=127.0.0.1
export PG_PORT=$port
export PG_DB=postgres
export PG_USER=postgres
export PG_PASSWORD=$SUPERUSER_PASSWORD
export PGHOST=127.0.0.1
export PGPORT=$port
export PGDATABASE=postgres
export PGUSER=postgres
EOF
}

[ $# -ge 2 ] || usage
COMMAND=$1
DIR=$2
shift 2
PORT=""
DURABLE=0
IMMEDIATE=0
for arg in "$@"; do
  case $arg in
    --durable) DURABLE=1 ;;
    --immediate) IMMEDIATE=1 ;;
    '' | *[!0-9]*) usage ;;
    *) PORT=$arg ;;
  esac
done
if [ "$COMMAND" = start ]; then
  mkdir -p "$DIR" || die "cannot create $DIR"
elif [ ! -d "$DIR" ]; then
  # Nothing was ever started here: stopping is done, and there is no environment to print.
  [ "$COMMAND" = stop ] && { echo "pg-local: not running"; exit 0; }
  [ "$COMMAND" = env ] && die "no server in $DIR"
  usage
fi
DIR=$(cd "$DIR" && pwd)
DATA=$DIR/data

case $COMMAND in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) usage ;;
esac
