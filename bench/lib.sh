# Shared by the bench scripts (source it after setting ROOT, BUILD_DIR, RESULTS, PG_BIN, CH_DB,
# SKIP_BUILD and KEEP_WORK): logging and arithmetic helpers, the Release build, and throwaway
# PostgreSQL (data on tmpfs) + ClickHouse servers that are stopped and removed on any exit.
# shellcheck shell=bash

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
now() { date +%s.%N; }
# awk arithmetic: calc 'a / b' with variables passed as name=value.
calc() {
  local expr=$1
  shift
  awk "$@" "BEGIN { printf \"%.10g\", $expr }"
}
fmt0() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
fmt3() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
json_field() { sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" "$1"; }

# Builds pg2ch and the latency probe (Release) unless SKIP_BUILD=1; sets PG2CH and PROBE.
bench_build() {
  if [ "$SKIP_BUILD" != 1 ]; then
    log "building Release in $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" --target pg2ch pg2ch_latency_probe >/dev/null
  fi
  PG2CH=$BUILD_DIR/pg2ch
  PROBE=$BUILD_DIR/bench/pg2ch_latency_probe
  [ -x "$PG2CH" ] && [ -x "$PROBE" ] || die "binaries missing in $BUILD_DIR (build failed?)"
  mkdir -p "$RESULTS"
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
    kill -TERM "$BG_PID" 2>/dev/null || true
    wait "$BG_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/pg-local.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  "$ROOT/scripts/ch-local.sh" stop "$WORK/ch" >/dev/null 2>&1 || true
  if [ "$KEEP_WORK" = 1 ]; then
    log "servers stopped; kept $WORK"
  else
    rm -rf "$WORK"
  fi
  [ $rc -eq 0 ] || log "exit status $rc"
  exit $rc
}

# Makes WORK (on tmpfs: the VM's disk makes every commit slow, which would measure the disk, not
# pg2ch), starts both servers there and exports the seed's PG_* / CH_* variables for them.
# BG_PID, when set, is a background pg2ch that cleanup stops first.
bench_start_servers() {
  WORK=$(mktemp -d /dev/shm/pg2ch-bench.XXXXXX)
  chmod 755 "$WORK"
  mkfifo "$WORK/sampler.fifo"
  BG_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "starting PostgreSQL and ClickHouse in $WORK"
  "$ROOT/scripts/pg-local.sh" start "$WORK/pg" >/dev/null
  "$ROOT/scripts/ch-local.sh" start "$WORK/ch" >/dev/null
  eval "$("$ROOT/scripts/pg-local.sh" env "$WORK/pg")"
  eval "$("$ROOT/scripts/ch-local.sh" env "$WORK/ch")"
  export CH_DATABASE=$CH_DB
  export PG_HOST PG_PORT PG_DB PG_USER PG_PASSWORD PGHOST PGPORT PGDATABASE PGUSER CH_HOST CH_PORT CH_USER CH_PASSWORD
  CH_URL="http://$CH_HOST:$CH_PORT/"
}

psql_q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
chq() { curl -sS --fail-with-body "$CH_URL" --data-binary "$1"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
