#!/usr/bin/env bash
# Huge transactions with and without streaming of in-progress transactions (issue 16 item 3,
# logical.streaming; capture/logical/transaction_spool.h). Per variant (streaming on / off), a
# fresh pipeline on its own slot, running in the background, then:
#   commit  one transaction inserting ROWS rows: commit -> visible in ClickHouse (the time from
#           psql's COMMIT returning to the ClickHouse count reaching ROWS, polled every 50 ms)
#   abort   one transaction inserting ABORT_ROWS rows, rolled back, then one single-row insert:
#           its insert -> visible (how long the rolled-back transaction holds the stream up)
#   catch-up  the same rolled-back transaction and one row written while pg2ch is stopped: from
#           its start to that row in ClickHouse
# and, per variant, the slot's spill_bytes / stream_bytes (pg_stat_replication_slots, reset at
# the start) and pg2ch's peak RSS (VmHWM). The server keeps logical_decoding_work_mem at its
# default (64MB) unless WORK_MEM is set.
#
# Knobs: ROWS [1000000] ABORT_ROWS [2000000] VARIANTS ["on off"] WORK_MEM [server default]
# Results: bench/results/huge-transaction.{json,md}.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
ROWS=${ROWS:-1000000}
ABORT_ROWS=${ABORT_ROWS:-2000000}
VARIANTS=${VARIANTS:-on off}
WORK_MEM=${WORK_MEM:-}

bench_pg2ch_binary
bench_start_servers
[ -n "$WORK_MEM" ] && psql_q -c "ALTER SYSTEM SET logical_decoding_work_mem = '$WORK_MEM'" -c "SELECT pg_reload_conf()" >/dev/null
psql_q -c "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL, n int NOT NULL)"
psql_q -c "CREATE TABLE marker (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"

ch_count() { chq "SELECT count() FROM $VDB.$1 FINAL WHERE _deleted = 0" 2>/dev/null || echo -1; }
wait_count() {  # TABLE N TIMEOUT_S; sets WAITED (seconds) or dies
  local t0 deadline
  t0=$(now)
  deadline=$(calc 'a + b' -v a="$t0" -v b="$3")
  while [ "$(ch_count "$1")" != "$2" ]; do
    awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n > d) }' && die "$1 did not reach $2 rows in $3 s"
    sleep 0.05
  done
  WAITED=$(calc 'b - a' -v a="$t0" -v b="$(now)")
}
slot_stat() { psql_q -c "SELECT $2 FROM pg_stat_replication_slots WHERE slot_name = '$1'"; }

declare -A R
for v in $VARIANTS; do
  slot="huge_$v"
  cfg="$WORK/$v.toml"
  cat >"$cfg" <<EOT
name = "huge_$v"
[logical]
slot = "$slot"
publication = "$slot"
streaming = $([ "$v" = on ] && echo true || echo false)
[state]
path = "$WORK/$v.state"
[log]
level = "info"
[[tables]]
name = "public.big"
[[tables]]
name = "public.marker"
EOT
  psql_q -c "TRUNCATE big, marker"
  log "variant streaming=$v: starting pg2ch"
  VDB="${CH_DB}_$v"  # each variant's own ClickHouse database
  chq "CREATE DATABASE IF NOT EXISTS $VDB"
  "$PG2CH" --config "$cfg" --set "clickhouse.database=$VDB" run 2>"$WORK/$v.log" &
  BG_PID=$!
  for ((i = 0; i < 600; i++)); do grep -q "caught up: streaming" "$WORK/$v.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "caught up: streaming" "$WORK/$v.log" || die "pg2ch did not start: $(tail -n 5 "$WORK/$v.log")"
  psql_q -c "SELECT pg_stat_reset_replication_slot('$slot')" >/dev/null

  load=$(loadavg)
  t0=$(now)
  psql_q -c "INSERT INTO big SELECT g, repeat('p', 40) || g, 1 FROM generate_series(1, $ROWS) g"
  tx=$(calc 'b - a' -v a="$t0" -v b="$(now)")
  wait_count big "$ROWS" 900
  R[$v.commit_visible]=$WAITED R[$v.tx_seconds]=$tx R[$v.load]=$load
  log "streaming=$v: $ROWS-row transaction took $(fmt2 "$tx") s; commit -> visible $(fmt2 "$WAITED") s"

  t0=$(now)
  psql_q -c "BEGIN" -c "INSERT INTO big SELECT g, 'never', 2 FROM generate_series($ROWS + 1, $ROWS + $ABORT_ROWS) g" -c "ROLLBACK"
  abort_tx=$(calc 'b - a' -v a="$t0" -v b="$(now)")
  psql_q -c "INSERT INTO marker (id) VALUES (1)"
  wait_count marker 1 900
  R[$v.after_abort_visible]=$WAITED R[$v.abort_tx_seconds]=$abort_tx
  log "streaming=$v: rolled-back $ABORT_ROWS-row transaction took $(fmt2 "$abort_tx") s; the next insert -> visible $(fmt2 "$WAITED") s"
  [ "$(chq "SELECT count() FROM $VDB.big WHERE n = 2")" = 0 ] || die "rows of the rolled-back transaction in ClickHouse"

  # Catching up: the same rolled-back transaction written while pg2ch is stopped, then one row;
  # from pg2ch's start to that row in ClickHouse.
  kill -TERM "$BG_PID"
  wait "$BG_PID" || die "pg2ch exited with an error: $(tail -n 5 "$WORK/$v.log")"
  psql_q -c "BEGIN" -c "INSERT INTO big SELECT g, 'never', 2 FROM generate_series($ROWS + 1, $ROWS + $ABORT_ROWS) g" -c "ROLLBACK"
  psql_q -c "INSERT INTO marker (id) VALUES (2)"
  t0=$(now)
  "$PG2CH" --config "$cfg" --set "clickhouse.database=$VDB" run 2>>"$WORK/$v.log" &
  BG_PID=$!
  wait_count marker 2 900
  R[$v.catch_up_visible]=$(calc 'b - a' -v a="$t0" -v b="$(now)")
  log "streaming=$v: started after a rolled-back $ABORT_ROWS-row transaction: the next row visible after $(fmt2 "${R[$v.catch_up_visible]}") s"

  sleep 1  # the walsender reports its statistics a moment later
  R[$v.spill_mb]=$(slot_stat "$slot" "round(spill_bytes / 1e6, 1)")
  R[$v.stream_mb]=$(slot_stat "$slot" "round(stream_bytes / 1e6, 1)")
  R[$v.rss_mb]=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$BG_PID/status")
  kill -TERM "$BG_PID"
  wait "$BG_PID" || die "pg2ch exited with an error: $(tail -n 5 "$WORK/$v.log")"
  BG_PID=""
  log "streaming=$v: spill $(fmt2 "${R[$v.spill_mb]}") MB, streamed $(fmt2 "${R[$v.stream_mb]}") MB, pg2ch peak RSS ${R[$v.rss_mb]} MB"
  "$PG2CH" --config "$cfg" --set "clickhouse.database=$VDB" teardown >/dev/null 2>&1 || true
done

PG_VERSION=$(psql_q -c "SHOW server_version")
WM=$(psql_q -c "SHOW logical_decoding_work_mem")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
{
  echo "# Huge transactions: streaming in-progress transactions on and off"
  echo
  echo "$(date +%F), commit $COMMIT, $(nproc) CPUs, PostgreSQL $PG_VERSION (tmpfs, logical_decoding_work_mem $WM), $(chq "SELECT version()" | sed 's/^/ClickHouse /'). Produced by \`bench/huge_transaction.sh\`, one run."
  echo
  echo "| logical.streaming | $ROWS-row tx: commit -> visible | rolled-back $ABORT_ROWS-row tx: next insert -> visible | the same written while pg2ch was stopped: start -> next row visible | source spill | streamed to pg2ch | pg2ch peak RSS | load avg |"
  echo "|---|---|---|---|---|---|---|---|"
  for v in $VARIANTS; do
    echo "| $v | $(fmt2 "${R[$v.commit_visible]}") s | $(fmt2 "${R[$v.after_abort_visible]}") s | $(fmt2 "${R[$v.catch_up_visible]}") s | ${R[$v.spill_mb]} MB | ${R[$v.stream_mb]} MB | ${R[$v.rss_mb]} MB | ${R[$v.load]} |"
  done
} >"$RESULTS/huge-transaction.md"
{
  echo "{\"commit\": \"$COMMIT\", \"rows\": $ROWS, \"abort_rows\": $ABORT_ROWS, \"work_mem\": \"$WM\", \"variants\": {"
  sep=""
  for v in $VARIANTS; do
    printf '%s"%s": {"commit_visible_seconds": %s, "tx_seconds": %s, "after_abort_visible_seconds": %s, "catch_up_visible_seconds": %s, "abort_tx_seconds": %s, "spill_mb": %s, "stream_mb": %s, "peak_rss_mb": %s, "loadavg": %s}' \
      "$sep" "$v" "$(fmt2 "${R[$v.commit_visible]}")" "$(fmt2 "${R[$v.tx_seconds]}")" "$(fmt2 "${R[$v.after_abort_visible]}")" \
      "$(fmt2 "${R[$v.catch_up_visible]}")" "$(fmt2 "${R[$v.abort_tx_seconds]}")" "${R[$v.spill_mb]}" "${R[$v.stream_mb]}" "${R[$v.rss_mb]}" "${R[$v.load]}"
    sep=", "
  done
  echo "}}"
} >"$RESULTS/huge-transaction.json"
cat "$RESULTS/huge-transaction.md"
