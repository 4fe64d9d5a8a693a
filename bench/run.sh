#!/usr/bin/env bash
# Benchmarks of the logical route, side by side with the tools pg2ch should keep up with.
#
#   bench/run.sh
#
# Builds Release, starts a throwaway PostgreSQL 15 (data on tmpfs) and ClickHouse on free ports,
# runs the measurements below, stops the servers and removes every temp dir (also on failure or
# Ctrl-C). Results: bench/results/latest.json (machine-readable) and bench/results/latest.md.
#
#   (a) initial snapshot of ROWS rows: psql COPY | curl into a MergeTree table (two variants:
#       `curl --data-binary @-`, which reads all of stdin before sending, and `curl -T -`, which
#       streams) vs `pg2ch run --until-caught-up` with logical.snapshot_workers=1 and 2
#   (b) one UPDATE of CDC_ROWS rows in one transaction: pg_recvlogical draining its own slot vs
#       pg2ch catching up (plus pg2ch's peak RSS)
#   (c) SMALL_TX single-row UPDATE transactions from pgbench: pg_recvlogical vs pg2ch
#   (d) commit -> visible in ClickHouse at 10,000 rows/s (bench/latency_probe.cpp), pg2ch with
#       default batching and with batch.max_delay_ms=100
#
# Environment knobs (defaults in brackets):
#   BUILD_DIR [<repo>/build-bench]  ROWS [5000000]  CDC_ROWS [1000000]  SMALL_TX [200000]
#   PGBENCH_CLIENTS [4]  LAT_SECONDS [20]  REPEAT [2] (snapshot runs per variant; best is reported)
#   PERF [0]: 1 = profile the whole machine (perf record -a) during pg2ch's (b) and (c) runs and
#             save the top of the reports as bench/results/latest-perf-{b,c}.txt
#   SKIP_BUILD [0]: 1 = use the binaries already in BUILD_DIR
#   KEEP_WORK [0]: 1 = keep the temp dir (logs) after the run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
ROWS=${ROWS:-5000000}
CDC_ROWS=${CDC_ROWS:-1000000}
SMALL_TX=${SMALL_TX:-200000}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-4}
LAT_SECONDS=${LAT_SECONDS:-20}
REPEAT=${REPEAT:-2}
PERF=${PERF:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_WORK=${KEEP_WORK:-0}
RESULTS=$ROOT/bench/results
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CH_DB=db

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

# ---------------------------------------------------------------------------------------------
# Build, servers, cleanup

if [ "$SKIP_BUILD" != 1 ]; then
  log "building Release in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" --target pg2ch pg2ch_latency_probe >/dev/null
fi
PG2CH=$BUILD_DIR/pg2ch
PROBE=$BUILD_DIR/bench/pg2ch_latency_probe
[ -x "$PG2CH" ] && [ -x "$PROBE" ] || die "binaries missing in $BUILD_DIR (build failed?)"

mkdir -p "$RESULTS"
[ "$PERF" = 1 ] || rm -f "$RESULTS"/latest-perf-*.txt

# tmpfs: the VM's disk makes every commit slow, which would measure the disk, not pg2ch.
WORK=$(mktemp -d /dev/shm/pg2ch-bench.XXXXXX)
chmod 755 "$WORK"
BG_PID=""
cleanup() {
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
trap cleanup EXIT
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

psql_q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
chq() { curl -sS --fail-with-body "$CH_URL" --data-binary "$1"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# ---------------------------------------------------------------------------------------------
# pg2ch helpers

write_config() {  # FILE SLOT TABLE
  cat >"$1" <<EOF
name = "bench"
[logical]
slot = "$2"
publication = "$2"
[log]
level = "info"
[[tables]]
name = "$3"
EOF
}

# Runs pg2ch with a config; extra arguments are passed through. Log on stderr file $LOG.
pg2ch_cmd() {  # CONFIG STATE LOG args...
  local config=$1 state=$2 logfile=$3
  shift 3
  "$PG2CH" --config "$config" --set "state.path=$state" "$@" 2>>"$logfile"
}

# Seconds since the epoch of a pg2ch log line ("2026-11-25 10:42:01.123 info ...").
log_time() { date -d "${1:0:23}" +%s.%N; }
# Seconds between the first line matching $2 and the last line matching $3 in log $1.
log_span() {
  local a b
  a=$(grep -m1 -- "$2" "$1") || return 1
  b=$(grep -- "$3" "$1" | tail -n1) || return 1
  calc 'b - a' -v a="$(log_time "$a")" -v b="$(log_time "$b")"
}

# Top of a system-wide profile: where CPU went per process, then pg2ch's hottest symbols.
perf_summary() {  # DATA OUT
  {
    echo "# perf record -a -g -F 499 during the pg2ch run; overhead by command:"
    perf report -i "$1" --stdio --no-children --sort comm 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
    echo
    echo "# pg2ch process, self time by symbol:"
    perf report -i "$1" --stdio --no-children --comms pg2ch --sort dso,symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -n 40
    echo
    echo "# walsender (postgres), self time by symbol:"
    perf report -i "$1" --stdio --no-children --comms postgres --sort symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -n 20
  } >"$2"
}

# Times `pg2ch run --until-caught-up` (under /usr/bin/time -v, optionally inside perf).
# Sets RUN_WALL, RUN_STREAM (log: "streaming from slot" -> "stopped:"), RUN_RSS_MB, RUN_TX, RUN_CHANGES.
timed_catch_up() {  # CONFIG STATE LOG PERF_OUT
  local config=$1 state=$2 logfile=$3 perf_out=${4:-} t0 t1 stopped
  local -a wrap=(/usr/bin/time -v -o "$logfile.time")
  if [ "$PERF" = 1 ] && [ -n "$perf_out" ]; then
    wrap=(perf record -q -a -g -F 499 -o "$WORK/perf.data" -- "${wrap[@]}")
  fi
  t0=$(now)
  "${wrap[@]}" "$PG2CH" --config "$config" --set "state.path=$state" run --until-caught-up 2>>"$logfile" ||
    die "pg2ch run failed, log: $(tail -n 5 "$logfile")"
  t1=$(now)
  RUN_WALL=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
  RUN_STREAM=$(log_span "$logfile" "streaming from slot" "stopped:") || die "no stream lines in $logfile"
  RUN_RSS_MB=$(calc 'kb / 1024' -v kb="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$logfile.time")")
  stopped=$(grep "stopped:" "$logfile" | tail -n1)
  RUN_TX=$(sed -E 's/.*stopped: ([0-9]+) transactions.*/\1/' <<<"$stopped")
  RUN_CHANGES=$(sed -E 's/.*transactions, ([0-9]+) changes.*/\1/' <<<"$stopped")
  if [ "$PERF" = 1 ] && [ -n "$perf_out" ]; then
    perf_summary "$WORK/perf.data" "$perf_out"
    rm -f "$WORK/perf.data"
  fi
}

# Drains a slot with pg_recvlogical up to LSN; sets RECV_SECONDS.
timed_recvlogical() {  # SLOT PUBLICATION LSN
  local t0 t1
  t0=$(now)
  timeout 600 "$PG_BIN/pg_recvlogical" -d "$PGDATABASE" --slot "$1" --start --no-loop \
    -o proto_version=1 -o "publication_names=$2" -o binary=true -E "$3" -f /dev/null ||
    die "pg_recvlogical failed"
  t1=$(now)
  RECV_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
}

# ---------------------------------------------------------------------------------------------
# Data

PG_VERSION=$(psql_q -c "SHOW server_version")
CH_VERSION=$(chq "SELECT version()")
log "PostgreSQL $PG_VERSION on :$PG_PORT, ClickHouse $CH_VERSION on :$CH_PORT; loading $ROWS rows"
t0=$(now)
psql_q <<EOF
CREATE TABLE source_table (id int, name text, value double precision);
INSERT INTO source_table SELECT g, 'name_' || g, random() * 1000 FROM generate_series(1, $ROWS) g;
ALTER TABLE source_table ADD PRIMARY KEY (id);
VACUUM (FREEZE, ANALYZE) source_table;
CREATE TABLE lat (id bigint primary key, payload text);
CHECKPOINT;
EOF
LOAD_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
log "loaded in $(fmt2 "$LOAD_SECONDS") s"
chq "CREATE DATABASE IF NOT EXISTS $CH_DB"
chq "CREATE TABLE $CH_DB.target (id Int32, name String, value Float64) ENGINE = MergeTree ORDER BY id"

SRC_CFG=$WORK/source.toml
write_config "$SRC_CFG" pg2ch_bench public.source_table

# ---------------------------------------------------------------------------------------------
# (a) snapshot

PIPE_QUERY="INSERT%20INTO%20$CH_DB.target%20FORMAT%20TabSeparated"
pipe_run() {  # CURL-MODE (post|put); sets PIPE_SECONDS
  local t0 t1 count
  chq "TRUNCATE TABLE $CH_DB.target"
  t0=$(now)
  if [ "$1" = post ]; then
    psql_q -c "COPY source_table (id,name,value) TO STDOUT" |
      curl -sS --fail-with-body --data-binary @- "$CH_URL?query=$PIPE_QUERY"
  else
    psql_q -c "COPY source_table (id,name,value) TO STDOUT" |
      curl -sS --fail-with-body -T - "$CH_URL?query=$PIPE_QUERY"
  fi
  t1=$(now)
  PIPE_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
  count=$(chq "SELECT count() FROM $CH_DB.target")
  [ "$count" = "$ROWS" ] || die "pipe ($1) wrote $count rows, expected $ROWS"
}

SNAP_RUN=0
snapshot_run() {  # WORKERS; sets SNAP_SECONDS SNAP_RATE SNAP_WALL SNAP_STATE
  local t0 t1 line rows count
  SNAP_RUN=$((SNAP_RUN + 1))
  # Fresh slot, publication, target table and state every time.
  pg2ch_cmd "$SRC_CFG" "$WORK/snap-prev.state" "$WORK/teardown.log" teardown --drop-target >/dev/null
  SNAP_STATE=$WORK/snap-$SNAP_RUN.state
  local logfile=$WORK/snap-$SNAP_RUN.log
  t0=$(now)
  pg2ch_cmd "$SRC_CFG" "$SNAP_STATE" "$logfile" --set "logical.snapshot_workers=$1" run --until-caught-up ||
    die "pg2ch snapshot failed: $(tail -n 5 "$logfile")"
  t1=$(now)
  cp "$SNAP_STATE" "$WORK/snap-prev.state"
  SNAP_WALL=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
  line=$(grep -m1 "initial snapshot done:" "$logfile") || die "no snapshot line in $logfile"
  # "initial snapshot done: N rows, X MB in S s (R rows/s)"
  rows=$(sed -E 's/.*done: ([0-9]+) rows.*/\1/' <<<"$line")
  SNAP_SECONDS=$(sed -E 's/.* in ([0-9.]+) s .*/\1/' <<<"$line")
  SNAP_RATE=$(sed -E 's/.*\(([0-9.]+) rows\/s\).*/\1/' <<<"$line")
  [ "$rows" = "$ROWS" ] || die "pg2ch snapshot copied $rows rows, expected $ROWS"
  count=$(chq "SELECT count() FROM $CH_DB.source_table")
  [ "$count" = "$ROWS" ] || die "pg2ch snapshot left $count rows in ClickHouse, expected $ROWS"
}

declare -A BEST ALL
best_min() {  # KEY VALUE: keeps the smallest time
  ALL[$1]="${ALL[$1]:+${ALL[$1]},}$(fmt2 "$2")"
  if [ -z "${BEST[$1]:-}" ] || awk -v a="$2" -v b="${BEST[$1]}" 'BEGIN { exit !(a < b) }'; then BEST[$1]=$2; fi
}

LOAD_A=$(loadavg)
for ((rep = 1; rep <= REPEAT; rep++)); do
  # Interleaved, so background noise hits every variant alike.
  pipe_run post
  best_min pipe_post "$PIPE_SECONDS"
  log "(a) run $rep: pipe curl --data-binary @-  $(fmt2 "$PIPE_SECONDS") s"
  pipe_run put
  best_min pipe_put "$PIPE_SECONDS"
  log "(a) run $rep: pipe curl -T -              $(fmt2 "$PIPE_SECONDS") s"
  for w in 1 2; do
    snapshot_run "$w"
    best_min "snap_w$w" "$SNAP_SECONDS"
    best_min "snap_w${w}_wall" "$SNAP_WALL"
    log "(a) run $rep: pg2ch snapshot_workers=$w     $(fmt2 "$SNAP_SECONDS") s ($(fmt0 "$SNAP_RATE") rows/s; process $(fmt2 "$SNAP_WALL") s)"
  done
done
chq "DROP TABLE $CH_DB.target"
CDC_STATE=$SNAP_STATE  # the last run (2 workers) stays: its slot and table carry on into (b) and (c)

rate() { calc 'n / s' -v n="$1" -v s="$2"; }
A_PIPE_POST=$(rate "$ROWS" "${BEST[pipe_post]}")
A_PIPE_PUT=$(rate "$ROWS" "${BEST[pipe_put]}")
A_W1=$(rate "$ROWS" "${BEST[snap_w1]}")
A_W2=$(rate "$ROWS" "${BEST[snap_w2]}")
A_W1_WALL=$(rate "$ROWS" "${BEST[snap_w1_wall]}")
A_W2_WALL=$(rate "$ROWS" "${BEST[snap_w2_wall]}")

# ---------------------------------------------------------------------------------------------
# (b) one big transaction

# pg2ch's fixed cost of `run --until-caught-up` with nothing to do: connect, check, describe,
# start streaming, wait for the server's first keepalive, exit.
t0=$(now)
pg2ch_cmd "$SRC_CFG" "$CDC_STATE" "$WORK/idle.log" run --until-caught-up || die "idle run failed"
STARTUP_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
log "(b) pg2ch idle catch-up run (startup cost): $(fmt2 "$STARTUP_SECONDS") s"

"$PG_BIN/pg_recvlogical" -d "$PGDATABASE" --slot bench_recv --create-slot -P pgoutput
LOAD_B=$(loadavg)
t0=$(now)
psql_q -c "UPDATE source_table SET value = value + 1 WHERE id <= $CDC_ROWS"
B_UPDATE_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
B_LSN=$(psql_q -c "SELECT pg_current_wal_lsn()")
log "(b) UPDATE of $CDC_ROWS rows in $(fmt2 "$B_UPDATE_SECONDS") s, WAL now $B_LSN"

timed_recvlogical bench_recv pg2ch_bench "$B_LSN"
B_RECV_SECONDS=$RECV_SECONDS
psql_q -c "SELECT pg_drop_replication_slot('bench_recv')" >/dev/null
log "(b) pg_recvlogical: $(fmt2 "$B_RECV_SECONDS") s"

timed_catch_up "$SRC_CFG" "$CDC_STATE" "$WORK/cdc-big.log" "$RESULTS/latest-perf-b.txt"
B_WALL=$RUN_WALL B_STREAM=$RUN_STREAM B_RSS=$RUN_RSS_MB B_CHANGES=$RUN_CHANGES
[ "$B_CHANGES" = "$CDC_ROWS" ] || die "pg2ch streamed $B_CHANGES changes, expected $CDC_ROWS"
B_VERSIONED=$(chq "SELECT count() FROM $CH_DB.source_table WHERE _version > 0")
[ "$B_VERSIONED" = "$CDC_ROWS" ] || die "ClickHouse holds $B_VERSIONED updated rows, expected $CDC_ROWS"
log "(b) pg2ch: process $(fmt2 "$B_WALL") s, streaming $(fmt2 "$B_STREAM") s, peak RSS $(fmt0 "$B_RSS") MB"

B_RECV_RATE=$(rate "$CDC_ROWS" "$B_RECV_SECONDS")
B_RATE=$(rate "$CDC_ROWS" "$B_STREAM")
B_RATE_NET=$(calc 'n / (w - s > 0.001 ? w - s : 0.001)' -v n="$CDC_ROWS" -v w="$B_WALL" -v s="$STARTUP_SECONDS")
B_RATE_WALL=$(rate "$CDC_ROWS" "$B_WALL")

# ---------------------------------------------------------------------------------------------
# (c) many small transactions

"$PG_BIN/pg_recvlogical" -d "$PGDATABASE" --slot bench_recv_small --create-slot -P pgoutput
printf '\\set id random(1, %s)\nUPDATE source_table SET value = value + 1 WHERE id = :id;\n' "$ROWS" >"$WORK/update.sql"
LOAD_C=$(loadavg)
t0=$(now)
"$PG_BIN/pgbench" -n -f "$WORK/update.sql" -c "$PGBENCH_CLIENTS" -j 2 -t $((SMALL_TX / PGBENCH_CLIENTS)) \
  "$PGDATABASE" >"$WORK/pgbench.log" 2>&1 || die "pgbench failed: $(tail -n 5 "$WORK/pgbench.log")"
C_PGBENCH_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
C_TX=$((SMALL_TX / PGBENCH_CLIENTS * PGBENCH_CLIENTS))
C_PGBENCH_TPS=$(awk '/^tps = / { print $3 }' "$WORK/pgbench.log")
C_LSN=$(psql_q -c "SELECT pg_current_wal_lsn()")
log "(c) pgbench: $C_TX transactions at $(fmt0 "$C_PGBENCH_TPS") tx/s, WAL now $C_LSN"

timed_recvlogical bench_recv_small pg2ch_bench "$C_LSN"
C_RECV_SECONDS=$RECV_SECONDS
psql_q -c "SELECT pg_drop_replication_slot('bench_recv_small')" >/dev/null
log "(c) pg_recvlogical: $(fmt2 "$C_RECV_SECONDS") s"

timed_catch_up "$SRC_CFG" "$CDC_STATE" "$WORK/cdc-small.log" "$RESULTS/latest-perf-c.txt"
C_WALL=$RUN_WALL C_STREAM=$RUN_STREAM C_RSS=$RUN_RSS_MB C_PG2CH_TX=$RUN_TX C_CHANGES=$RUN_CHANGES
[ "$C_CHANGES" = "$C_TX" ] || die "pg2ch streamed $C_CHANGES changes, expected $C_TX"
log "(c) pg2ch: process $(fmt2 "$C_WALL") s, streaming $(fmt2 "$C_STREAM") s, $C_PG2CH_TX transactions, peak RSS $(fmt0 "$C_RSS") MB"

C_RECV_RATE=$(rate "$C_TX" "$C_RECV_SECONDS")
C_RATE=$(rate "$C_TX" "$C_STREAM")
C_RATE_NET=$(calc 'n / (w - s > 0.001 ? w - s : 0.001)' -v n="$C_TX" -v w="$C_WALL" -v s="$STARTUP_SECONDS")
C_RATE_WALL=$(rate "$C_TX" "$C_WALL")

# Nothing below needs the source table's pipeline: its slot would only pin WAL.
pg2ch_cmd "$SRC_CFG" "$CDC_STATE" "$WORK/teardown.log" teardown --drop-target >/dev/null

# ---------------------------------------------------------------------------------------------
# (d) latency

LAT_CFG=$WORK/lat.toml
write_config "$LAT_CFG" pg2ch_lat public.lat
LAT_RUN=0
latency_run() {  # OUTFILE extra pg2ch args...; writes the probe's JSON to OUTFILE
  local out=$1 logfile
  shift
  LAT_RUN=$((LAT_RUN + 1))
  logfile=$WORK/lat-$LAT_RUN.log
  psql_q -c "TRUNCATE lat"
  # Started directly (not through a shell function) so $! is pg2ch itself and gets the TERM.
  "$PG2CH" --config "$LAT_CFG" --set "state.path=$WORK/lat-$LAT_RUN.state" "$@" run 2>>"$logfile" &
  BG_PID=$!
  for ((i = 0; i < 600; i++)); do
    grep -q "streaming from slot" "$logfile" 2>/dev/null && break
    kill -0 "$BG_PID" 2>/dev/null || die "pg2ch exited early: $(tail -n 5 "$logfile")"
    sleep 0.1
  done
  grep -q "streaming from slot" "$logfile" || die "pg2ch did not start streaming: $(tail -n 5 "$logfile")"
  "$PROBE" --pg "host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER" --table public.lat \
    --ch-host "$CH_HOST" --ch-port "$CH_PORT" --ch-database "$CH_DB" --ch-table lat \
    --rows-per-tx 100 --interval-ms 10 --duration "$LAT_SECONDS" >"$out" || die "latency probe failed: $(cat "$out")"
  kill -TERM "$BG_PID"
  wait "$BG_PID" || die "pg2ch did not stop cleanly: $(tail -n 5 "$logfile")"
  BG_PID=""
  pg2ch_cmd "$LAT_CFG" "$WORK/lat-$LAT_RUN.state" "$WORK/teardown.log" teardown --drop-target >/dev/null
}
json_field() { sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" "$1"; }

LOAD_D=$(loadavg)
latency_run "$WORK/lat-default.json"
log "(d) default batching: $(cat "$WORK/lat-default.json")"
latency_run "$WORK/lat-100.json" --set batch.max_delay_ms=100
log "(d) batch.max_delay_ms=100: $(cat "$WORK/lat-100.json")"

# ---------------------------------------------------------------------------------------------
# Results

ratio() { calc 'a / b' -v a="$1" -v b="$2"; }
verdict() { awk -v x="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == ">=" ? x >= t : op == ">" ? x > t : x < t; print ok ? "yes" : "NO" }'; }

R_W1=$(ratio "$A_W1" "$A_PIPE_POST")
R_W2=$(ratio "$A_W2" "$A_PIPE_POST")
R_W1_PUT=$(ratio "$A_W1" "$A_PIPE_PUT")
R_W2_PUT=$(ratio "$A_W2" "$A_PIPE_PUT")
R_B=$(ratio "$B_RATE" "$B_RECV_RATE")
R_B_NET=$(ratio "$B_RATE_NET" "$B_RECV_RATE")
R_C=$(ratio "$C_RATE" "$C_RECV_RATE")
R_C_NET=$(ratio "$C_RATE_NET" "$C_RECV_RATE")
LD_P50=$(json_field "$WORK/lat-default.json" p50_ms)
LD_P99=$(json_field "$WORK/lat-default.json" p99_ms)
LD_MAX=$(json_field "$WORK/lat-default.json" max_ms)
L1_P50=$(json_field "$WORK/lat-100.json" p50_ms)
L1_P99=$(json_field "$WORK/lat-100.json" p99_ms)
L1_MAX=$(json_field "$WORK/lat-100.json" max_ms)

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo true || echo false)
mkdir -p "$RESULTS"
cat >"$RESULTS/latest.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": "$COMMIT",
  "dirty_tree": $DIRTY,
  "machine": {"cpus": $(nproc), "mem_gb": $(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo), "pg_data": "tmpfs"},
  "postgresql": "$PG_VERSION",
  "clickhouse": "$CH_VERSION",
  "parameters": {"rows": $ROWS, "cdc_rows": $CDC_ROWS, "small_tx": $C_TX, "pgbench_clients": $PGBENCH_CLIENTS,
                 "latency_seconds": $LAT_SECONDS, "repeat": $REPEAT, "perf": $([ "$PERF" = 1 ] && echo true || echo false)},
  "load_seconds": $(fmt2 "$LOAD_SECONDS"),
  "snapshot": {
    "loadavg_at_start": $LOAD_A,
    "note": "best of $REPEAT runs each; pg2ch seconds from its 'initial snapshot done' log line, process_seconds = whole run --until-caught-up",
    "pipe_data_binary": {"seconds": $(fmt2 "${BEST[pipe_post]}"), "rows_per_second": $(fmt0 "$A_PIPE_POST"), "runs": [${ALL[pipe_post]}]},
    "pipe_upload_stream": {"seconds": $(fmt2 "${BEST[pipe_put]}"), "rows_per_second": $(fmt0 "$A_PIPE_PUT"), "runs": [${ALL[pipe_put]}]},
    "pg2ch_workers_1": {"seconds": $(fmt2 "${BEST[snap_w1]}"), "rows_per_second": $(fmt0 "$A_W1"), "runs": [${ALL[snap_w1]}],
                        "process_seconds": $(fmt2 "${BEST[snap_w1_wall]}"), "process_rows_per_second": $(fmt0 "$A_W1_WALL")},
    "pg2ch_workers_2": {"seconds": $(fmt2 "${BEST[snap_w2]}"), "rows_per_second": $(fmt0 "$A_W2"), "runs": [${ALL[snap_w2]}],
                        "process_seconds": $(fmt2 "${BEST[snap_w2_wall]}"), "process_rows_per_second": $(fmt0 "$A_W2_WALL")},
    "ratio_workers_1_vs_pipe": $(fmt2 "$R_W1"), "ratio_workers_2_vs_pipe": $(fmt2 "$R_W2"),
    "ratio_workers_1_vs_streaming_pipe": $(fmt2 "$R_W1_PUT"), "ratio_workers_2_vs_streaming_pipe": $(fmt2 "$R_W2_PUT")
  },
  "pg2ch_startup_seconds": $(fmt2 "$STARTUP_SECONDS"),
  "cdc_big_transaction": {
    "loadavg_at_start": $LOAD_B,
    "changes": $CDC_ROWS, "update_seconds": $(fmt2 "$B_UPDATE_SECONDS"),
    "pg_recvlogical": {"seconds": $(fmt2 "$B_RECV_SECONDS"), "changes_per_second": $(fmt0 "$B_RECV_RATE")},
    "pg2ch": {"process_seconds": $(fmt2 "$B_WALL"), "streaming_seconds": $(fmt2 "$B_STREAM"),
              "changes_per_second": $(fmt0 "$B_RATE"), "changes_per_second_wall_minus_startup": $(fmt0 "$B_RATE_NET"),
              "changes_per_second_wall": $(fmt0 "$B_RATE_WALL"), "peak_rss_mb": $(fmt0 "$B_RSS")},
    "ratio": $(fmt2 "$R_B"), "ratio_wall_minus_startup": $(fmt2 "$R_B_NET")
  },
  "cdc_small_transactions": {
    "loadavg_at_start": $LOAD_C,
    "transactions": $C_TX, "pgbench_tps": $(fmt0 "$C_PGBENCH_TPS"),
    "pg_recvlogical": {"seconds": $(fmt2 "$C_RECV_SECONDS"), "tx_per_second": $(fmt0 "$C_RECV_RATE")},
    "pg2ch": {"process_seconds": $(fmt2 "$C_WALL"), "streaming_seconds": $(fmt2 "$C_STREAM"),
              "tx_per_second": $(fmt0 "$C_RATE"), "tx_per_second_wall_minus_startup": $(fmt0 "$C_RATE_NET"),
              "tx_per_second_wall": $(fmt0 "$C_RATE_WALL"), "peak_rss_mb": $(fmt0 "$C_RSS")},
    "ratio": $(fmt2 "$R_C"), "ratio_wall_minus_startup": $(fmt2 "$R_C_NET")
  },
  "latency": {
    "loadavg_at_start": $LOAD_D,
    "rows_per_second_target": 10000, "writer_synchronous_commit": "on",
    "default_batching": $(cat "$WORK/lat-default.json"),
    "max_delay_100ms": $(cat "$WORK/lat-100.json")
  }
}
EOF

{
  echo "# pg2ch logical route benchmark"
  echo
  echo "$(date -u +%Y-%m-%d), commit $COMMIT$([ "$DIRTY" = true ] && echo ' (uncommitted changes)'), $(nproc) CPUs, PostgreSQL $PG_VERSION (tmpfs), ClickHouse $CH_VERSION. Produced by \`bench/run.sh\`; raw figures in \`latest.json\`."
  echo
  echo "| Measurement | Baseline | pg2ch | pg2ch / baseline | Target | Met |"
  echo "|---|---|---|---|---|---|"
  echo "| (a) snapshot $ROWS rows, 1 worker | pipe $(fmt0 "$A_PIPE_POST") rows/s | $(fmt0 "$A_W1") rows/s | $(fmt2 "$R_W1") | >= 0.9 | $(verdict "$R_W1" 0.9 ">=") |"
  echo "| (a) snapshot $ROWS rows, 2 workers | pipe $(fmt0 "$A_PIPE_POST") rows/s | $(fmt0 "$A_W2") rows/s | $(fmt2 "$R_W2") | > 1.0 | $(verdict "$R_W2" 1.0 ">") |"
  echo "| (a') same vs streaming pipe (\`curl -T -\`), 1 / 2 workers | pipe $(fmt0 "$A_PIPE_PUT") rows/s | $(fmt0 "$A_W1") / $(fmt0 "$A_W2") rows/s | $(fmt2 "$R_W1_PUT") / $(fmt2 "$R_W2_PUT") | (0.9 / 1.0) | $(verdict "$R_W1_PUT" 0.9 ">=") / $(verdict "$R_W2_PUT" 1.0 ">") |"
  echo "| (b) 1 transaction, $CDC_ROWS changes | pg_recvlogical $(fmt0 "$B_RECV_RATE") changes/s | $(fmt0 "$B_RATE") changes/s | $(fmt2 "$R_B") | >= 0.8 | $(verdict "$R_B" 0.8 ">=") |"
  echo "| (b) pg2ch peak RSS | | $(fmt0 "$B_RSS") MB | | < 256 MB | $(verdict "$B_RSS" 256 "<") |"
  echo "| (c) $C_TX single-row transactions | pg_recvlogical $(fmt0 "$C_RECV_RATE") tx/s | $(fmt0 "$C_RATE") tx/s | $(fmt2 "$R_C") | >= 0.8 | $(verdict "$R_C" 0.8 ">=") |"
  echo "| (d) latency at 10k rows/s, default batching | | p50 $LD_P50 / p99 $LD_P99 / max $LD_MAX ms | | | |"
  echo "| (d) latency at 10k rows/s, batch.max_delay_ms=100 | | p50 $L1_P50 / p99 $L1_P99 / max $L1_MAX ms | | p99 < 250 ms | $(verdict "$L1_P99" 250 "<") |"
  echo
  echo "Notes"
  echo
  echo "- (a) pipe = \`psql -c 'COPY source_table (id,name,value) TO STDOUT' | curl --data-binary @- ...FORMAT TabSeparated\` into a plain MergeTree table; curl reads all of stdin before it sends, so (a') also compares with \`curl -T -\`, which streams. pg2ch time is its \"initial snapshot done\" line; whole processes took $(fmt2 "${BEST[snap_w1_wall]}") s (1 worker) and $(fmt2 "${BEST[snap_w2_wall]}") s (2 workers). Best of $REPEAT runs each (all runs in latest.json)."
  echo "- (b)/(c) pg2ch rate uses the time from its \"streaming from slot\" to its \"stopped:\" log line. Whole \`run --until-caught-up\` processes took $(fmt2 "$B_WALL") s and $(fmt2 "$C_WALL") s; an idle run (nothing to catch up) takes $(fmt2 "$STARTUP_SECONDS") s, which gives ratios $(fmt2 "$R_B_NET") and $(fmt2 "$R_C_NET") when subtracted. pg_recvlogical times are whole processes."
  echo "- (c) pgbench itself ran at $(fmt0 "$C_PGBENCH_TPS") tx/s with $PGBENCH_CLIENTS clients. pg2ch peak RSS in (c): $(fmt0 "$C_RSS") MB."
  echo "- (d) \`bench/latency_probe\`: 100 rows per transaction every 10 ms for $LAT_SECONDS s; visibility polled with \`SELECT max(id)\` every 2 ms (latency includes up to one poll round trip). The writer commits with synchronous_commit = on: with the bench server's default (off) a walsender sees a commit only after the WAL writer's next flush, up to 200 ms later."
  echo "- Load average (1 min) at the start of (a)/(b)/(c)/(d): $LOAD_A / $LOAD_B / $LOAD_C / $LOAD_D on $(nproc) CPUs."
} >"$RESULTS/latest.md"

log "done; results in bench/results/latest.{json,md}"
echo
cat "$RESULTS/latest.md"
