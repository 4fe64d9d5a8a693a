#!/usr/bin/env bash
# A throwaway ClickHouse 26.7 *engine* for tests, living entirely in DIR: chDB (ClickHouse's
# engine as a library, fetched by install-deps.sh) behind tests/fixtures/chdb_http_front, a
# test-only front that speaks the subset of ClickHouse's HTTP interface pg2ch uses. It is a test
# fixture, not a ClickHouse server; the commands mirror ch-local.sh so tests can use either.
#
#   chdb-local.sh start DIR   start in the background on a free port, wait for SELECT 1
#   chdb-local.sh stop  DIR   SIGTERM (SIGKILL after 30 s); no-op when not running
#   chdb-local.sh env   DIR   print `export CH_HOST=...` lines for the shell
#
# CHDB_FRONT names the front binary (default: the build tree's). Users as in ch-local.sh:
# `default` without a password and `pg2ch` / `pg2ch_secret`.
set -euo pipefail
source "$(dirname "$0")/lib/pid-file.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHDB_FRONT=${CHDB_FRONT:-$ROOT/build/tests/fixtures/chdb_http_front/chdb_http_front}

usage() {
  echo "usage: $0 start DIR | stop DIR | env DIR" >&2
  exit 2
}

die() {
  echo "chdb-local: $*" >&2
  exit 1
}

front_pid() { pid_of "$DIR/front.pid"; }

answers() {
  [ "$(curl -sf --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null)" = 1 ]
}

cmd_start() {
  if front_pid >/dev/null; then
    echo "chdb-local: already running on port $(cat "$DIR/port")"
    return 0
  fi
  [ -x "$CHDB_FRONT" ] || die "no front binary at $CHDB_FRONT (build the tests first; CHDB_FRONT names another)"
  mkdir -p "$DIR/data" "$DIR/log"
  rm -f "$DIR/port"
  # setsid: the front must not die with the shell (or test process group) that started it.
  # TZ=UTC as ch-local.sh's <timezone>: the engine takes the process's time zone.
  (cd "$DIR" && TZ=UTC exec setsid "$CHDB_FRONT" --data-dir "$DIR/data" --port 0 --port-file "$DIR/port" \
    --user default: --user pg2ch:pg2ch_secret </dev/null >>"$DIR/log/front.log" 2>&1) &
  local pid=$!
  echo "$pid" >"$DIR/front.pid"
  for ((i = 0; i < 600; i++)); do
    if [ -f "$DIR/port" ] && answers "$(cat "$DIR/port")"; then
      echo "chdb-local: ClickHouse 26.7 engine (test fixture) ready on 127.0.0.1:$(cat "$DIR/port"); data $DIR/data"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/front.pid"
  tail -n 20 "$DIR/log/front.log" >&2 || true
  die "the chDB front did not start (log: $DIR/log/front.log)"
}

cmd_stop() {
  if stop_pid_file "$DIR/front.pid"; then echo "chdb-local: stopped"; else echo "chdb-local: not running"; fi
}

cmd_env() {
  [ -f "$DIR/port" ] || die "no engine in $DIR (run: $0 start $DIR)"
  cat <<ENV
export CH_HOST=127.0.0.1
export CH_PORT=$(cat "$DIR/port")
export CH_USER=default
export CH_PASSWORD=
export CH_DATABASE=default
ENV
}

[ $# -eq 2 ] || usage
COMMAND=$1
DIR=$2
if [ "$COMMAND" = start ]; then
  mkdir -p "$DIR" || die "cannot create $DIR"
elif [ ! -d "$DIR" ]; then
  [ "$COMMAND" = stop ] && { echo "chdb-local: not running"; exit 0; }
  [ "$COMMAND" = env ] && die "no engine in $DIR"
  usage
fi
DIR=$(cd "$DIR" && pwd)

case $COMMAND in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) usage ;;
esac
