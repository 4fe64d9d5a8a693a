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
#   PGBENCH_CLIENTS [4]  LAT_SECONDS [20]  REPEAT [1] (snapshot runs per variant; the median is
#   reported, never the best: with the default of one, every figure is that one run's)
#   PERF [0]: 1 = profile the whole machine (perf record -a) during pg2ch's (b) and (c) runs and
#             save the top of the reports as bench/results/perf-{b,c}.txt (perf slows the runs
#             it profiles: take the figures from a run without it)
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
REPEAT=${REPEAT:-1}
PERF=${PERF:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_WORK=${KEEP_WORK:-0}
RESULTS=${RESULTS:-$ROOT/bench/results}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CH_DB=db

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_servers

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

# Top of a system-wide profile: where CPU went per process, then the hottest symbols of pg2ch
# and of the walsender. (awk, not head: an early exit would SIGPIPE the pipeline under pipefail.)
perf_summary() {  # DATA OUT
  local data=$1 out=$2
  top() { awk -v max="$1" '!/^#/ && NF { print; if (++n == max) exit }'; }
  {
    echo "# bench/run.sh PERF=1, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    echo "# perf record -a -g -F 499 during the pg2ch run; share of all samples by command:"
    perf report -i "$data" --stdio --no-children --sort comm -g none 2>/dev/null | top 12 || true
    echo
    echo "# pg2ch process, self time by symbol (share of all samples):"
    perf report -i "$data" --stdio --no-children --comms pg2ch --sort dso,symbol -g none 2>/dev/null |
      cut -c1-160 | sed -E 's/ +$//' | top 40 || true
    echo
    echo "# postgres processes (the walsender), self time by symbol:"
    perf report -i "$data" --stdio --no-children --comms postgres --sort symbol -g none 2>/dev/null |
      cut -c1-160 | sed -E 's/ +$//' | top 25 || true
  } >"$out"
}

# CPU seconds (user + system) a process has used so far; 0 when it is gone.
proc_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
ch_cpu() { proc_cpu "$(cat "$WORK/ch/clickhouse.pid")"; }

# Where a drain's time goes on the server side. Runs in the background while a client drains SLOT:
# finds the slot's walsender, samples its CPU time and run-queue wait (/proc/PID/schedstat) until
# it exits, and notes when pg_stat_replication first showed it past LSN (checked every 0.5 s).
# Writes "cpu_seconds runqueue_wait_seconds wal_read_after_seconds" to FILE. Kept cheap (bash
# builtins; one psql per 0.5 s): on 2 cores every forked process shows up in the figures.
walsender_sampler() {  # SLOT LSN FILE
  local slot=$1 lsn=$2 out=$3 pid="" t0 stat="" sched="" sent=-1 n=0 s q
  t0=$(now)
  for ((i = 0; i < 1500; i++)); do
    pid=$(psql_q -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot' AND active" 2>/dev/null) || true
    [ -n "$pid" ] && break
    sleep 0.02
  done
  if [ -z "$pid" ]; then
    echo "0 0 -1" >"$out"
    return
  fi
  while { read -r s <"/proc/$pid/stat"; } 2>/dev/null; do
    stat=$s
    { read -r q <"/proc/$pid/schedstat"; } 2>/dev/null && sched=$q
    if [ "$sent" = -1 ] && [ $((n % 5)) = 0 ] &&
      [ "$(psql_q -c "SELECT sent_lsn >= '$lsn' FROM pg_stat_replication WHERE pid = $pid" 2>/dev/null)" = t ]; then
      sent=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
    fi
    n=$((n + 1))
    read -r -t 0.1 <>"$WORK/sampler.fifo" || true  # sleep 0.1 s without forking
  done
  awk -v hz="$(getconf CLK_TCK)" -v sc="$sched" -v sent="$sent" \
    '{ split(sc, a, " "); printf "%.2f %.2f %.2f\n", ($14 + $15) / hz, a[2] / 1e9, sent }' <<<"$stat" >"$out"
}
sampler_field() { awk -v i="$2" '{ print $i }' "$1"; }

# WAL the slot's walsender must read before it reaches the present (MB), and spilled bytes so far.
slot_backlog_mb() {
  psql_q -c "SELECT round((pg_current_wal_lsn() - restart_lsn) / 1e6, 1) FROM pg_replication_slots WHERE slot_name = '$1'"
}
slot_spill_mb() {
  psql_q -c "SELECT coalesce(round(spill_bytes / 1e6, 1), 0) FROM pg_stat_replication_slots WHERE slot_name = '$1'"
}

# Times `pg2ch run --until-caught-up` (under /usr/bin/time -v, optionally inside perf).
# Sets RUN_WALL, RUN_STREAM (log: "streaming from slot" -> "stopped:"), RUN_RSS_MB, RUN_CPU,
# RUN_TX, RUN_CHANGES, RUN_INSERTS, RUN_CH_CPU, RUN_SPILL_MB, RUN_BACKLOG_MB and the
# walsender's RUN_WS_CPU, RUN_WS_WAIT, RUN_WS_SENT.
timed_catch_up() {  # CONFIG STATE LOG LSN PERF_OUT
  local config=$1 state=$2 logfile=$3 lsn=$4 perf_out=${5:-} slot t0 t1 stopped ch0 spill0 sampler
  local -a wrap=(/usr/bin/time -v -o "$logfile.time")
  slot=$(sed -nE 's/^slot = "(.*)"/\1/p' "$config")
  if [ "$PERF" = 1 ] && [ -n "$perf_out" ]; then
    wrap=(perf record -q -a -g -F 499 -o "$WORK/perf.data" -- "${wrap[@]}")
  fi
  RUN_BACKLOG_MB=$(slot_backlog_mb "$slot")
  spill0=$(slot_spill_mb "$slot")
  ch0=$(ch_cpu)
  walsender_sampler "$slot" "$lsn" "$logfile.walsender" &
  sampler=$!
  t0=$(now)
  "${wrap[@]}" "$PG2CH" --config "$config" --set "state.path=$state" --log-level debug run --until-caught-up \
    2>>"$logfile" || die "pg2ch run failed, log: $(tail -n 5 "$logfile")"
  t1=$(now)
  wait "$sampler" || true
  RUN_CH_CPU=$(calc 'b - a' -v a="$ch0" -v b="$(ch_cpu)")
  RUN_SPILL_MB=$(calc 'b - a' -v a="$spill0" -v b="$(slot_spill_mb "$slot")")
  RUN_WS_CPU=$(sampler_field "$logfile.walsender" 1)
  RUN_WS_WAIT=$(sampler_field "$logfile.walsender" 2)
  RUN_WS_SENT=$(sampler_field "$logfile.walsender" 3)
  RUN_WALL=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
  RUN_STREAM=$(log_span "$logfile" "streaming from slot" "stopped:") || die "no stream lines in $logfile"
  RUN_RSS_MB=$(calc 'kb / 1024' -v kb="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$logfile.time")")
  RUN_CPU=$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f", t }' "$logfile.time")
  stopped=$(grep "stopped:" "$logfile" | tail -n1)
  RUN_TX=$(sed -E 's/.*stopped: ([0-9]+) transactions.*/\1/' <<<"$stopped")
  RUN_CHANGES=$(sed -E 's/.*transactions, ([0-9]+) changes.*/\1/' <<<"$stopped")
  RUN_INSERTS=$(sed -E 's/.* rows in ([0-9]+) inserts.*/\1/' <<<"$stopped")
  # The last batch waits for batch.max_delay_ms even when nothing more is coming: the time from
  # the next-to-last flush to the last one shows it.
  RUN_LAST_FLUSH_GAP=$(awk '/ debug flushed / { prev = last; last = $1 " " $2 } END { print prev "|" last }' "$logfile")
  if [ "${RUN_LAST_FLUSH_GAP%%|*}" != "" ]; then
    RUN_LAST_FLUSH_GAP=$(calc 'b - a' -v a="$(log_time "${RUN_LAST_FLUSH_GAP%%|*}")" -v b="$(log_time "${RUN_LAST_FLUSH_GAP##*|}")")
  else
    RUN_LAST_FLUSH_GAP=0
  fi
  if [ "$PERF" = 1 ] && [ -n "$perf_out" ]; then
    perf_summary "$WORK/perf.data" "$perf_out"
    rm -f "$WORK/perf.data"
  fi
}

# Drains a slot with pg_recvlogical up to LSN; sets RECV_SECONDS, RECV_CPU and the walsender's
# RECV_WS_CPU, RECV_WS_WAIT, RECV_WS_SENT.
timed_recvlogical() {  # SLOT PUBLICATION LSN
  local t0 t1 sampler
  walsender_sampler "$1" "$3" "$WORK/recv-$1.walsender" &
  sampler=$!
  t0=$(now)
  timeout 600 /usr/bin/time -f "%U %S" -o "$WORK/recv-$1.time" "$PG_BIN/pg_recvlogical" -d "$PGDATABASE" \
    --slot "$1" --start --no-loop -o proto_version=1 -o "publication_names=$2" -o binary=true -E "$3" -f /dev/null ||
    die "pg_recvlogical failed"
  t1=$(now)
  wait "$sampler" || true
  RECV_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$t1")
  RECV_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/recv-$1.time")
  RECV_WS_CPU=$(sampler_field "$WORK/recv-$1.walsender" 1)
  RECV_WS_WAIT=$(sampler_field "$WORK/recv-$1.walsender" 2)
  RECV_WS_SENT=$(sampler_field "$WORK/recv-$1.walsender" 3)
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
  local t0 t1 count ch0
  chq "TRUNCATE TABLE $CH_DB.target"
  ch0=$(ch_cpu)
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
  PIPE_CH_CPU=$(calc 'b - a' -v a="$ch0" -v b="$(ch_cpu)")
  count=$(chq "SELECT count() FROM $CH_DB.target")
  [ "$count" = "$ROWS" ] || die "pipe ($1) wrote $count rows, expected $ROWS"
}

SNAP_RUN=0
snapshot_run() {  # WORKERS; sets SNAP_SECONDS SNAP_RATE SNAP_WALL SNAP_STATE SNAP_CPU SNAP_CH_CPU
  local t0 t1 line rows count ch0
  SNAP_RUN=$((SNAP_RUN + 1))
  # Fresh slot, publication, target table and state every time.
  pg2ch_cmd "$SRC_CFG" "$WORK/snap-prev.state" "$WORK/teardown.log" teardown --drop-target >/dev/null
  SNAP_STATE=$WORK/snap-$SNAP_RUN.state
  local logfile=$WORK/snap-$SNAP_RUN.log
  ch0=$(ch_cpu)
  t0=$(now)
  /usr/bin/time -f "%U %S" -o "$logfile.time" "$PG2CH" --config "$SRC_CFG" --set "state.path=$SNAP_STATE" \
    --set "logical.snapshot_workers=$1" run --until-caught-up 2>>"$logfile" ||
    die "pg2ch snapshot failed: $(tail -n 5 "$logfile")"
  t1=$(now)
  SNAP_CH_CPU=$(calc 'b - a' -v a="$ch0" -v b="$(ch_cpu)")
  SNAP_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$logfile.time")
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

# BEST[key] is the median of a variant's runs (ALL[key]): with REPEAT=1, that run's figure.
declare -A BEST ALL
best_min() {  # KEY VALUE: records a run's time; BEST becomes the median so far
  ALL[$1]="${ALL[$1]:+${ALL[$1]},}$2"
  BEST[$1]=$(tr , '\n' <<<"${ALL[$1]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
}

LOAD_A=$(loadavg)
for ((rep = 1; rep <= REPEAT; rep++)); do
  # Interleaved, so background noise hits every variant alike.
  pipe_run post
  best_min pipe_post "$PIPE_SECONDS"
  ALL[pipe_post_ch_cpu]="${ALL[pipe_post_ch_cpu]:+${ALL[pipe_post_ch_cpu]},}$(fmt2 "$PIPE_CH_CPU")"
  log "(a) run $rep: pipe curl --data-binary @-  $(fmt2 "$PIPE_SECONDS") s (ClickHouse cpu $(fmt2 "$PIPE_CH_CPU") s)"
  pipe_run put
  best_min pipe_put "$PIPE_SECONDS"
  ALL[pipe_put_ch_cpu]="${ALL[pipe_put_ch_cpu]:+${ALL[pipe_put_ch_cpu]},}$(fmt2 "$PIPE_CH_CPU")"
  log "(a) run $rep: pipe curl -T -              $(fmt2 "$PIPE_SECONDS") s (ClickHouse cpu $(fmt2 "$PIPE_CH_CPU") s)"
  # 0 = the default: pg2ch chooses (src/capture/logical/snapshot_workers.h).
  for w in 1 2 0; do
    snapshot_run "$w"
    best_min "snap_w$w" "$SNAP_SECONDS"
    best_min "snap_w${w}_wall" "$SNAP_WALL"
    ALL[snap_w${w}_cpu]="${ALL[snap_w${w}_cpu]:+${ALL[snap_w${w}_cpu]},}$SNAP_CPU"
    ALL[snap_w${w}_ch_cpu]="${ALL[snap_w${w}_ch_cpu]:+${ALL[snap_w${w}_ch_cpu]},}$(fmt2 "$SNAP_CH_CPU")"
    log "(a) run $rep: pg2ch snapshot_workers=$w     $(fmt2 "$SNAP_SECONDS") s ($(fmt0 "$SNAP_RATE") rows/s; process $(fmt2 "$SNAP_WALL") s, cpu $SNAP_CPU s, ClickHouse cpu $(fmt2 "$SNAP_CH_CPU") s)"
  done
done
chq "DROP TABLE $CH_DB.target"
SNAP_DEFAULT_WORKERS=$(sed -nE 's/.*initial snapshot: .* ([0-9]+) worker\(s\).*/\1/p' "$WORK/snap-$SNAP_RUN.log" | head -n1)
CDC_STATE=$SNAP_STATE  # the last run (default workers) stays: its slot and table carry on into (b) and (c)

rate() { calc 'n / s' -v n="$1" -v s="$2"; }
A_PIPE_POST=$(rate "$ROWS" "${BEST[pipe_post]}")
A_PIPE_PUT=$(rate "$ROWS" "${BEST[pipe_put]}")
A_W1=$(rate "$ROWS" "${BEST[snap_w1]}")
A_W2=$(rate "$ROWS" "${BEST[snap_w2]}")
A_W1_WALL=$(rate "$ROWS" "${BEST[snap_w1_wall]}")
A_W2_WALL=$(rate "$ROWS" "${BEST[snap_w2_wall]}")
A_W0=$(rate "$ROWS" "${BEST[snap_w0]}")
A_W0_WALL=$(rate "$ROWS" "${BEST[snap_w0_wall]}")

# ---------------------------------------------------------------------------------------------
# (b) one big transaction

# JSON for the last drain (after timed_recvlogical / timed_catch_up).
recv_json() {  # CHANGES SLOT_BACKLOG_MB
  printf '{"seconds": %s, "per_second": %s, "client_cpu_seconds": %s, "walsender_cpu_seconds": %s, "walsender_runqueue_wait_seconds": %s, "walsender_wal_read_after_seconds": %s, "slot_backlog_mb": %s}' \
    "$(fmt2 "$RECV_SECONDS")" "$(fmt0 "$(rate "$1" "$RECV_SECONDS")")" "$RECV_CPU" "$RECV_WS_CPU" "$RECV_WS_WAIT" "$RECV_WS_SENT" "${2:-0}"
}
pg2ch_json() {
  printf '{"process_seconds": %s, "streaming_seconds": %s, "cpu_seconds": %s, "peak_rss_mb": %s, "inserts": %s, "last_batch_wait_seconds": %s, "clickhouse_cpu_seconds": %s, "walsender_cpu_seconds": %s, "walsender_runqueue_wait_seconds": %s, "walsender_wal_read_after_seconds": %s, "slot_backlog_mb": %s, "spilled_mb": %s}' \
    "$(fmt2 "$RUN_WALL")" "$(fmt2 "$RUN_STREAM")" "$RUN_CPU" "$(fmt0 "$RUN_RSS_MB")" "$RUN_INSERTS" "$(fmt2 "$RUN_LAST_FLUSH_GAP")" \
    "$(fmt2 "$RUN_CH_CPU")" "$RUN_WS_CPU" "$RUN_WS_WAIT" "$RUN_WS_SENT" "${RUN_BACKLOG_MB:-0}" "$(fmt2 "$RUN_SPILL_MB")"
}
recv_row() { echo "| $1 pg_recvlogical | $(fmt2 "$RECV_SECONDS") | $RECV_CPU | $RECV_WS_CPU | $RECV_WS_WAIT | $RECV_WS_SENT | | |"; }
pg2ch_row() { echo "| $1 pg2ch | $(fmt2 "$RUN_WALL") | $RUN_CPU | $RUN_WS_CPU | $RUN_WS_WAIT | $RUN_WS_SENT | $(fmt2 "$RUN_CH_CPU") | $RUN_INSERTS inserts, last batch waited $(fmt2 "$RUN_LAST_FLUSH_GAP") s |"; }
diag_line() {
  echo "pg2ch cpu $RUN_CPU s, ClickHouse cpu $(fmt2 "$RUN_CH_CPU") s, walsender cpu $RUN_WS_CPU s (waited for a CPU $RUN_WS_WAIT s, WAL read after $RUN_WS_SENT s), $RUN_INSERTS inserts, last batch waited $(fmt2 "$RUN_LAST_FLUSH_GAP") s, slot backlog $RUN_BACKLOG_MB MB"
}

# A slot's restart_lsn only moves when its walsender decodes a running-transactions record and
# the client then confirms a position past it. `run --until-caught-up` exits right after its
# last confirmation, so after a big transaction pg2ch's slot can still point before it, and the
# next run decodes (and spills) that transaction again before reaching new changes. The
# pg_recvlogical slots are created just before each workload, so pg2ch's slot is brought to the
# same point first: a CHECKPOINT logs a running-transactions record, an idle run confirms it.
settle_pg2ch_slot() {  # LOG; sets SETTLE_SECONDS (the idle run's wall time)
  local t0
  psql_q -c "CHECKPOINT"
  t0=$(now)
  pg2ch_cmd "$SRC_CFG" "$CDC_STATE" "$1" run --until-caught-up || die "idle run failed: $(tail -n 5 "$1")"
  SETTLE_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
}

# pg2ch's fixed cost of `run --until-caught-up` with nothing to do: connect, check, describe,
# start streaming, wait for the server's first keepalive, exit.
settle_pg2ch_slot "$WORK/idle.log"
STARTUP_SECONDS=$SETTLE_SECONDS
log "(b) pg2ch idle catch-up run (startup cost): $(fmt2 "$STARTUP_SECONDS") s; slot backlog now $(slot_backlog_mb pg2ch_bench) MB"

"$PG_BIN/pg_recvlogical" -d "$PGDATABASE" --slot bench_recv --create-slot -P pgoutput
LOAD_B=$(loadavg)
t0=$(now)
psql_q -c "UPDATE source_table SET value = value + 1 WHERE id <= $CDC_ROWS"
B_UPDATE_SECONDS=$(calc 't1 - t0' -v t0="$t0" -v t1="$(now)")
B_LSN=$(psql_q -c "SELECT pg_current_wal_lsn()")
log "(b) UPDATE of $CDC_ROWS rows in $(fmt2 "$B_UPDATE_SECONDS") s, WAL now $B_LSN"

B_RECV_BACKLOG=$(slot_backlog_mb bench_recv)
timed_recvlogical bench_recv pg2ch_bench "$B_LSN"
B_RECV_SECONDS=$RECV_SECONDS
B_RECV_JSON=$(recv_json "$CDC_ROWS" "$B_RECV_BACKLOG")
B_RECV_ROW=$(recv_row "(b)")
psql_q -c "SELECT pg_drop_replication_slot('bench_recv')" >/dev/null
log "(b) pg_recvlogical: $(fmt2 "$B_RECV_SECONDS") s (walsender cpu $RECV_WS_CPU s, waited for a CPU $RECV_WS_WAIT s)"

timed_catch_up "$SRC_CFG" "$CDC_STATE" "$WORK/cdc-big.log" "$B_LSN" "$RESULTS/perf-b.txt"
B_WALL=$RUN_WALL B_STREAM=$RUN_STREAM B_RSS=$RUN_RSS_MB B_CHANGES=$RUN_CHANGES
B_PG2CH_JSON=$(pg2ch_json)
B_PG2CH_ROW=$(pg2ch_row "(b)")
[ "$B_CHANGES" = "$CDC_ROWS" ] || die "pg2ch streamed $B_CHANGES changes, expected $CDC_ROWS"
B_VERSIONED=$(chq "SELECT count() FROM $CH_DB.source_table WHERE _version > 0")
[ "$B_VERSIONED" = "$CDC_ROWS" ] || die "ClickHouse holds $B_VERSIONED updated rows, expected $CDC_ROWS"
log "(b) pg2ch: process $(fmt2 "$B_WALL") s, streaming $(fmt2 "$B_STREAM") s, peak RSS $(fmt0 "$B_RSS") MB; $(diag_line)"

B_RECV_RATE=$(rate "$CDC_ROWS" "$B_RECV_SECONDS")
B_RATE=$(rate "$CDC_ROWS" "$B_STREAM")
B_RATE_NET=$(calc 'n / (w - s > 0.001 ? w - s : 0.001)' -v n="$CDC_ROWS" -v w="$B_WALL" -v s="$STARTUP_SECONDS")
B_RATE_WALL=$(rate "$CDC_ROWS" "$B_WALL")

# ---------------------------------------------------------------------------------------------
# (c) many small transactions

settle_pg2ch_slot "$WORK/idle-c.log"
log "(c) pg2ch slot backlog after an idle run: $(slot_backlog_mb pg2ch_bench) MB"
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

C_RECV_BACKLOG=$(slot_backlog_mb bench_recv_small)
timed_recvlogical bench_recv_small pg2ch_bench "$C_LSN"
C_RECV_SECONDS=$RECV_SECONDS
C_RECV_JSON=$(recv_json "$C_TX" "$C_RECV_BACKLOG")
C_RECV_ROW=$(recv_row "(c)")
psql_q -c "SELECT pg_drop_replication_slot('bench_recv_small')" >/dev/null
log "(c) pg_recvlogical: $(fmt2 "$C_RECV_SECONDS") s (walsender cpu $RECV_WS_CPU s, waited for a CPU $RECV_WS_WAIT s)"

timed_catch_up "$SRC_CFG" "$CDC_STATE" "$WORK/cdc-small.log" "$C_LSN" "$RESULTS/perf-c.txt"
C_WALL=$RUN_WALL C_STREAM=$RUN_STREAM C_RSS=$RUN_RSS_MB C_PG2CH_TX=$RUN_TX C_CHANGES=$RUN_CHANGES
C_PG2CH_JSON=$(pg2ch_json)
C_PG2CH_ROW=$(pg2ch_row "(c)")
[ "$C_CHANGES" = "$C_TX" ] || die "pg2ch streamed $C_CHANGES changes, expected $C_TX"
log "(c) pg2ch: process $(fmt2 "$C_WALL") s, streaming $(fmt2 "$C_STREAM") s, $C_PG2CH_TX transactions, peak RSS $(fmt0 "$C_RSS") MB; $(diag_line)"

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
R_W0_PUT=$(ratio "$A_W0" "$A_PIPE_PUT")
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
    "note": "median of $REPEAT run(s) each; pg2ch seconds from its 'initial snapshot done' log line, process_seconds = whole run --until-caught-up",
    "pipe_data_binary": {"seconds": $(fmt2 "${BEST[pipe_post]}"), "rows_per_second": $(fmt0 "$A_PIPE_POST"), "runs": [${ALL[pipe_post]}], "clickhouse_cpu_seconds": [${ALL[pipe_post_ch_cpu]}]},
    "pipe_upload_stream": {"seconds": $(fmt2 "${BEST[pipe_put]}"), "rows_per_second": $(fmt0 "$A_PIPE_PUT"), "runs": [${ALL[pipe_put]}], "clickhouse_cpu_seconds": [${ALL[pipe_put_ch_cpu]}]},
    "pg2ch_workers_1": {"seconds": $(fmt2 "${BEST[snap_w1]}"), "rows_per_second": $(fmt0 "$A_W1"), "runs": [${ALL[snap_w1]}],
                        "process_seconds": $(fmt2 "${BEST[snap_w1_wall]}"), "process_rows_per_second": $(fmt0 "$A_W1_WALL"),
                        "cpu_seconds": [${ALL[snap_w1_cpu]}], "clickhouse_cpu_seconds": [${ALL[snap_w1_ch_cpu]}]},
    "pg2ch_workers_2": {"seconds": $(fmt2 "${BEST[snap_w2]}"), "rows_per_second": $(fmt0 "$A_W2"), "runs": [${ALL[snap_w2]}],
                        "process_seconds": $(fmt2 "${BEST[snap_w2_wall]}"), "process_rows_per_second": $(fmt0 "$A_W2_WALL"),
                        "cpu_seconds": [${ALL[snap_w2_cpu]}], "clickhouse_cpu_seconds": [${ALL[snap_w2_ch_cpu]}]},
    "pg2ch_workers_default": {"workers_chosen": ${SNAP_DEFAULT_WORKERS:-0}, "seconds": $(fmt2 "${BEST[snap_w0]}"), "rows_per_second": $(fmt0 "$A_W0"), "runs": [${ALL[snap_w0]}],
                        "process_seconds": $(fmt2 "${BEST[snap_w0_wall]}"), "process_rows_per_second": $(fmt0 "$A_W0_WALL"),
                        "cpu_seconds": [${ALL[snap_w0_cpu]}], "clickhouse_cpu_seconds": [${ALL[snap_w0_ch_cpu]}]},
    "ratio_workers_1_vs_pipe": $(fmt2 "$R_W1"), "ratio_workers_2_vs_pipe": $(fmt2 "$R_W2"),
    "ratio_workers_1_vs_streaming_pipe": $(fmt2 "$R_W1_PUT"), "ratio_workers_2_vs_streaming_pipe": $(fmt2 "$R_W2_PUT")
  },
  "pg2ch_startup_seconds": $(fmt2 "$STARTUP_SECONDS"),
  "cdc_big_transaction": {
    "loadavg_at_start": $LOAD_B,
    "changes": $CDC_ROWS, "update_seconds": $(fmt2 "$B_UPDATE_SECONDS"),
    "pg_recvlogical": $B_RECV_JSON,
    "pg2ch": $B_PG2CH_JSON,
    "pg2ch_changes_per_second": $(fmt0 "$B_RATE"), "pg2ch_changes_per_second_wall_minus_startup": $(fmt0 "$B_RATE_NET"),
    "pg2ch_changes_per_second_wall": $(fmt0 "$B_RATE_WALL"),
    "ratio": $(fmt2 "$R_B"), "ratio_wall_minus_startup": $(fmt2 "$R_B_NET")
  },
  "cdc_small_transactions": {
    "loadavg_at_start": $LOAD_C,
    "transactions": $C_TX, "pgbench_tps": $(fmt0 "$C_PGBENCH_TPS"),
    "pg_recvlogical": $C_RECV_JSON,
    "pg2ch": $C_PG2CH_JSON,
    "pg2ch_tx_per_second": $(fmt0 "$C_RATE"), "pg2ch_tx_per_second_wall_minus_startup": $(fmt0 "$C_RATE_NET"),
    "pg2ch_tx_per_second_wall": $(fmt0 "$C_RATE_WALL"),
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
  echo "| (a) snapshot $ROWS rows, 1 worker | pipe $(fmt0 "$A_PIPE_POST") rows/s | $(fmt0 "$A_W1") rows/s | $(fmt3 "$R_W1") | >= 0.9 | $(verdict "$R_W1" 0.9 ">=") |"
  echo "| (a) snapshot $ROWS rows, 2 workers | pipe $(fmt0 "$A_PIPE_POST") rows/s | $(fmt0 "$A_W2") rows/s | $(fmt3 "$R_W2") | > 1.0 | $(verdict "$R_W2" 1.0 ">") |"
  echo "| (a') default workers (snapshot_workers = 0 chose ${SNAP_DEFAULT_WORKERS:-?}) vs streaming pipe | pipe $(fmt0 "$A_PIPE_PUT") rows/s | $(fmt0 "$A_W0") rows/s | $(fmt3 "$R_W0_PUT") | >= 1.0 | $(verdict "$R_W0_PUT" 1.0 ">=") |"
  echo "| (a') same vs streaming pipe (\`curl -T -\`), 1 / 2 workers | pipe $(fmt0 "$A_PIPE_PUT") rows/s | $(fmt0 "$A_W1") / $(fmt0 "$A_W2") rows/s | $(fmt3 "$R_W1_PUT") / $(fmt3 "$R_W2_PUT") | (0.9 / 1.0) | $(verdict "$R_W1_PUT" 0.9 ">=") / $(verdict "$R_W2_PUT" 1.0 ">") |"
  echo "| (b) 1 transaction, $CDC_ROWS changes | pg_recvlogical $(fmt0 "$B_RECV_RATE") changes/s | $(fmt0 "$B_RATE") changes/s | $(fmt3 "$R_B") | >= 0.8 | $(verdict "$R_B" 0.8 ">=") |"
  echo "| (b) pg2ch peak RSS | | $(fmt0 "$B_RSS") MB | | < 256 MB | $(verdict "$B_RSS" 256 "<") |"
  echo "| (c) $C_TX single-row transactions | pg_recvlogical $(fmt0 "$C_RECV_RATE") tx/s | $(fmt0 "$C_RATE") tx/s | $(fmt3 "$R_C") | >= 0.8 | $(verdict "$R_C" 0.8 ">=") |"
  echo "| (d) latency at 10k rows/s, default batching | | p50 $LD_P50 / p99 $LD_P99 / max $LD_MAX ms | | | |"
  echo "| (d) latency at 10k rows/s, batch.max_delay_ms=100 | | p50 $L1_P50 / p99 $L1_P99 / max $L1_MAX ms | | p99 < 250 ms | $(verdict "$L1_P99" 250 "<") |"
  echo
  echo "Notes"
  echo
  echo "- (a) pipe = \`psql -c 'COPY source_table (id,name,value) TO STDOUT' | curl --data-binary @- ...FORMAT TabSeparated\` into a plain MergeTree table; curl reads all of stdin before it sends, so (a') also compares with \`curl -T -\`, which streams. pg2ch time is its \"initial snapshot done\" line; whole processes took $(fmt2 "${BEST[snap_w1_wall]}") s (1 worker) and $(fmt2 "${BEST[snap_w2_wall]}") s (2 workers). Median of $REPEAT run(s) each (all runs in latest.json)."
  echo "- (b)/(c) pg2ch rate uses the time from its \"streaming from slot\" to its \"stopped:\" log line. Whole \`run --until-caught-up\` processes took $(fmt2 "$B_WALL") s and $(fmt2 "$C_WALL") s; an idle run (nothing to catch up) takes $(fmt2 "$STARTUP_SECONDS") s, which gives ratios $(fmt2 "$R_B_NET") and $(fmt2 "$R_C_NET") when subtracted. pg_recvlogical times are whole processes."
  echo "- (c) pgbench itself ran at $(fmt0 "$C_PGBENCH_TPS") tx/s with $PGBENCH_CLIENTS clients. pg2ch peak RSS in (c): $(fmt0 "$C_RSS") MB."
  echo "- (d) \`bench/latency_probe\`: 100 rows per transaction every 10 ms for $LAT_SECONDS s; visibility polled with \`SELECT max(id)\` every 2 ms (latency includes up to one poll round trip). The writer commits with synchronous_commit = on: with the bench server's default (off) a walsender sees a commit only after the WAL writer's next flush, up to 200 ms later."
  echo "- Where the CDC time went (CPU seconds; the walsender is the server process decoding for the slot; \"waited\" = time it was runnable but had no CPU; \"WAL read after\" = when pg_stat_replication first showed the walsender past the workload's last WAL position, 0.5 s steps, -1 = not observed; for one big transaction that is when decoding ends and sending starts):"
  echo
  echo "| Drain | Wall s | Client CPU s | Walsender CPU s | Walsender waited s | WAL read after s | ClickHouse CPU s | |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "$B_RECV_ROW"
  echo "$B_PG2CH_ROW"
  echo "$C_RECV_ROW"
  echo "$C_PG2CH_ROW"
  echo
  echo "- Load average (1 min) at the start of (a)/(b)/(c)/(d): $LOAD_A / $LOAD_B / $LOAD_C / $LOAD_D on $(nproc) CPUs."
} >"$RESULTS/latest.md"

log "done; results in bench/results/latest.{json,md}"
echo
cat "$RESULTS/latest.md"
