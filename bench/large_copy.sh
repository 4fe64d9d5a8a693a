#!/usr/bin/env bash
# A large table's initial copy (issue 14, item 7): ROWS rows of `big (id bigint pk, name text,
# value float8)` copied by `pg2ch run --until-caught-up` in logical mode.
#   full    one uninterrupted copy: rows/s (from the "initial snapshot done" line) and peak RSS
#           (/usr/bin/time -v);
#   killed  a fresh pipeline SIGKILLed at KILL_AT of the full run's time, then started again: the
#           rows the second run copied beyond what was left, and the time lost = (time to the
#           kill + second run) - full.
# Both end with count() FINAL = ROWS. Knobs: ROWS [20000000] WORKERS [2] RANGE_MB [256]
# KILL_AT [0.5]. Results: results/large-copy.{json,md}, with the load average at the start.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

ROWS=${ROWS:-20000000}
WORKERS=${WORKERS:-2}
RANGE_MB=${RANGE_MB:-256}
KILL_AT=${KILL_AT:-0.5}

bench_pg2ch_binary
bench_start_servers
LOAD_START=$(loadavg)

log "creating big with $ROWS rows"
psql_q -c "CREATE TABLE big (id bigint PRIMARY KEY, name text NOT NULL, value float8 NOT NULL)"
psql_q -c "INSERT INTO big SELECT g, 'name-' || g, g * 0.5 FROM generate_series(1, $ROWS) g"
psql_q -c "VACUUM ANALYZE big"
TABLE_MB=$(psql_q -c "SELECT pg_relation_size('big') / 1000000")
log "big: $TABLE_MB MB"

# The copy's settings on the command line: bench_logical_config's [logical] stays the shared one.
SETS=(--set "logical.snapshot_workers=$WORKERS" --set "logical.snapshot_range_mb=$RANGE_MB")
final_count() { CH_URL="http://$CH_HOST:$CH_PORT/?database=$1" chq "SELECT count() FROM big FINAL"; }

# full: one copy, timed and measured.
bench_logical_config full public.big
log "full: copying"
bench_timed_catch_up full full "${SETS[@]}"
FULL_S=$RUN_S
FULL_RSS_MB=$RUN_RSS_MB
FULL_RATE=$(sed -nE 's/.*initial snapshot done: .* \(([0-9]+) rows\/s\).*/\1/p' "$WORK/full.log")
RANGES=$(sed -nE 's/.*initial snapshot: 1 table\(s\) in ([0-9]+) range.*/\1/p' "$WORK/full.log")
[ "$(final_count full)" = "$ROWS" ] || die "full: count() FINAL is $(final_count full), not $ROWS"
log "full: $FULL_S s, $FULL_RATE rows/s, peak RSS $FULL_RSS_MB MB, $RANGES ranges"

# killed: SIGKILL once KILL_AT of the rows are in, then a second run.
bench_logical_config killed public.big
log "killed: copying, SIGKILL at $KILL_AT of $FULL_S s"
t0=$(now)
CH_DATABASE=killed "$PG2CH" --config "$WORK/killed.toml" "${SETS[@]}" run --until-caught-up >"$WORK/killed1.log" 2>&1 &
BG_PID=$!
# At KILL_AT of the full run's time: wherever the workers are in their ranges, not at a range's end.
kill_at_s=$(calc 'f * k' -v f="$FULL_S" -v k="$KILL_AT")
while awk -v a="$(calc 'b - a' -v a="$t0" -v b="$(now)")" -v b="$kill_at_s" 'BEGIN { exit !(a < b) }'; do
  kill -0 "$BG_PID" 2>/dev/null || die "the first run ended before the kill: $(tail -n 5 "$WORK/killed1.log")"
  sleep 0.1
done
kill -KILL "$BG_PID"
wait "$BG_PID" 2>/dev/null || true
BG_PID=""
KILLED_AFTER_S=$(calc 'b - a' -v a="$t0" -v b="$(now)")
so_far=$(sed -nE 's/.* ([0-9]+) rows so far\).*/\1/p' "$WORK/killed1.log" | tail -n 1)
so_far=${so_far:-0}
# Rows the first run wrote (whole ranges, and blocks of the ranges it was in): those beyond the
# ranges recorded as done are written again by the second run.
IN_AT_KILL=$(CH_URL="http://$CH_HOST:$CH_PORT/?database=killed" chq "SELECT count() FROM big")
log "killed after $KILLED_AFTER_S s with $so_far rows in (ranges done); starting again"
bench_timed_catch_up killed killed2 "${SETS[@]}"
SECOND_S=$RUN_S
DONE_BEFORE=$(sed -nE 's/.*initial snapshot resumed: .* range\(s\) \(([0-9]+) rows\).*/\1/p' "$WORK/killed2.log")
[ -n "$DONE_BEFORE" ] || die "the second run did not resume: $(grep -m3 snapshot "$WORK/killed2.log")"
COPIED_AGAIN=$(sed -nE 's/.*initial snapshot done: ([0-9]+) rows.*/\1/p' "$WORK/killed2.log")
REREAD=$((IN_AT_KILL - DONE_BEFORE))
LOST_S=$(calc 'k + s - f' -v k="$KILLED_AFTER_S" -v s="$SECOND_S" -v f="$FULL_S")
[ "$(final_count killed)" = "$ROWS" ] || die "killed: count() FINAL is $(final_count killed), not $ROWS"
log "killed: second run $SECOND_S s copied $COPIED_AGAIN rows; $DONE_BEFORE rows were done before, $IN_AT_KILL written; $REREAD written again; lost $LOST_S s"

JSON=$RESULTS/large-copy.json
printf '{"rows":%s,"table_mb":%s,"workers":%s,"range_mb":%s,"ranges":%s,"loadavg_start":%s,"full_s":%s,"rows_per_s":%s,"peak_rss_mb":%s,"killed_after_s":%s,"rows_in_at_kill":%s,"rows_done_durably":%s,"rows_written_at_kill":%s,"second_run_s":%s,"second_run_rows":%s,"rows_written_again":%s,"time_lost_s":%s}\n' \
  "$ROWS" "$TABLE_MB" "$WORKERS" "$RANGE_MB" "$RANGES" "$LOAD_START" "$(fmt2 "$FULL_S")" "$FULL_RATE" "$FULL_RSS_MB" \
  "$(fmt2 "$KILLED_AFTER_S")" "$so_far" "$DONE_BEFORE" "$IN_AT_KILL" "$(fmt2 "$SECOND_S")" "$COPIED_AGAIN" "$REREAD" "$(fmt2 "$LOST_S")" >"$JSON"
{
  echo "| Rows (table MB) | Workers, range MB (ranges) | Copy | Peak RSS | SIGKILL at | Rows in ClickHouse at the kill / in ranges recorded done | Second run | Rows written twice | Time lost | Load avg |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  echo "| $ROWS ($TABLE_MB) | $WORKERS, $RANGE_MB ($RANGES) | $(fmt2 "$FULL_S") s, $FULL_RATE rows/s | $FULL_RSS_MB MB |" \
    "$(fmt2 "$KILLED_AFTER_S") s | $IN_AT_KILL / $DONE_BEFORE | $COPIED_AGAIN rows in $(fmt2 "$SECOND_S") s | $REREAD |" \
    "$(fmt2 "$LOST_S") s | $LOAD_START |"
} >"$RESULTS/large-copy.md"
log "results: $JSON, $RESULTS/large-copy.md"
cat "$RESULTS/large-copy.md"
