#!/usr/bin/env bash
# What each capture mode costs the source database, and how quickly each delivers (issue 3; the
# seed's question "which loads PostgreSQL more, triggers or logical replication?").
#
#   bench/capture_cost.sh
#
# Same throwaway servers as bench/run.sh (PostgreSQL on tmpfs, ClickHouse), then:
#   (e) source write cost: pgbench, PGBENCH_CLIENTS clients of single-row INSERT transactions (prepared) for
#       WRITE_SECONDS each, on a table with no capture; with the seed's row trigger into
#       events_table; with the seed's per-row pg_notify trigger; with pg2ch's notify and outbox
#       triggers installed (pg2ch not running: the in-transaction cost alone); and with pg2ch
#       running in each mode (logical, poll, notify, outbox: triggers + pg2ch's own queries,
#       ClickHouse, all sharing the machine's cores with pgbench).
#   (f) end-to-end delay, commit in PostgreSQL -> visible in ClickHouse (bench/latency_probe.cpp)
#       for each mode with its default settings, at 1,000 and 10,000 rows/s.
#
# Environment knobs (defaults in brackets):
#   BUILD_DIR [<repo>/build-bench]  PGBENCH_CLIENTS [4]  WRITE_SECONDS [10]  ROUNDS [3] (medians
#   of interleaved rounds)  LAT_SECONDS [15]
#   MODES ["logical poll notify outbox"]  SKIP_BUILD [0]  KEEP_WORK [0]
#   RESULTS [<repo>/bench/results]: writes capture-cost.json and capture-cost.md there
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-4}
WRITE_SECONDS=${WRITE_SECONDS:-10}
LAT_SECONDS=${LAT_SECONDS:-15}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-logical poll notify outbox}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_WORK=${KEEP_WORK:-0}
RESULTS=${RESULTS:-$ROOT/bench/results}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CH_DB=db

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_servers

write_config() {  # FILE MODE TABLE
  cat >"$1" <<EOF
name = "cost_$2"
mode = "$2"
[logical]
slot = "cost_$2"
publication = "cost_$2"
[poll]
watermark = "id"
[notify]
channel = "cost_$2"
[state]
path = "$WORK/cost_$2.state"
[[tables]]
name = "$3"
EOF
}

# Starts `pg2ch run` in the background (BG_PID) and waits until it is reading changes.
start_pg2ch() {  # CONFIG LOG
  local config=$1 logfile=$2
  "$PG2CH" --config "$config" setup >>"$logfile" 2>&1 || die "pg2ch setup failed: $(tail -n 5 "$logfile")"
  "$PG2CH" --config "$config" run 2>>"$logfile" &
  BG_PID=$!
  # The logical mode copies the (empty) table first; the others start reading at once.
  for ((i = 0; i < 300; i++)); do
    kill -0 "$BG_PID" 2>/dev/null || die "pg2ch exited early: $(tail -n 5 "$logfile")"
    if ! grep -q 'mode = "logical"' "$config" || grep -q "streaming from slot" "$logfile"; then break; fi
    sleep 0.1
  done
  sleep 1
}

stop_pg2ch() {  # CONFIG LOG
  kill -TERM "$BG_PID"
  wait "$BG_PID" || die "pg2ch did not stop cleanly: $(tail -n 5 "$2")"
  BG_PID=""
  "$PG2CH" --config "$1" teardown --drop-target >>"$2" 2>&1 || die "pg2ch teardown failed: $(tail -n 5 "$2")"
}

# ---------------------------------------------------------------------------------------------
# (e) source write cost

psql_q <<'SQL'
CREATE TABLE src (id bigserial PRIMARY KEY, name text NOT NULL, value int NOT NULL,
                  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE lat (id bigint PRIMARY KEY, payload text);
SQL
cat >"$WORK/insert.sql" <<'EOF'
\set v random(1, 1000)
INSERT INTO src (name, value) VALUES ('name', :v);
EOF

SEED_EVENTS_DROP="DROP TRIGGER seed_capture ON src; DROP FUNCTION seed_capture(); DROP TABLE events_table;"
SEED_NOTIFY_DROP="DROP TRIGGER seed_notify ON src; DROP FUNCTION seed_notify();"

declare -A SAMPLES LATSAMPLES
COST_ORDER=()
write_run() {  # NAME
  local name=$1 out=$WORK/pgbench-$1.log
  psql_q -c "TRUNCATE src RESTART IDENTITY" -c "CHECKPOINT"
  "$PG_BIN/pgbench" -n -M prepared -f "$WORK/insert.sql" -c "$PGBENCH_CLIENTS" -j 2 -T "$WRITE_SECONDS" "$PGDATABASE" \
    >"$out" 2>&1 || die "pgbench failed: $(tail -n 5 "$out")"
  SAMPLES[$name]+="$(awk '/^tps = / { print $3 }' "$out") "
  LATSAMPLES[$name]+="$(awk '/^latency average = / { print $4 }' "$out") "
  [ "$round" = 1 ] && COST_ORDER+=("$name")
  log "(e) round $round $name: $(fmt0 "$(awk '/^tps = / { print $3 }' "$out")") tx/s (load $(loadavg))"
}

# Rounds run every configuration once, in the same order: the load of a shared machine drifts
# over minutes, and a single run per configuration measured mostly the drift.
for ((round = 1; round <= ROUNDS; round++)); do
  write_run none
  bench_seed_events_trigger src
  write_run seed_row_trigger
  psql_q -c "$SEED_EVENTS_DROP"
  bench_seed_notify_trigger src
  write_run seed_notify_trigger
  psql_q -c "$SEED_NOTIFY_DROP"

  for mode in $MODES; do
    cfg=$WORK/cost-$mode.toml
    write_config "$cfg" "$mode" public.src
    if [ "$mode" = notify ] || [ "$mode" = outbox ]; then
      "$PG2CH" --config "$cfg" setup >>"$WORK/cost-$mode.log" 2>&1 || die "pg2ch setup ($mode) failed"
      write_run "${mode}_installed"
      "$PG2CH" --config "$cfg" teardown --drop-target >>"$WORK/cost-$mode.log" 2>&1 || die "teardown ($mode) failed"
    fi
    start_pg2ch "$cfg" "$WORK/cost-$mode.log"
    write_run "${mode}_running"
    stop_pg2ch "$cfg" "$WORK/cost-$mode.log"
  done
done
declare -A TPS LATMS
for name in "${COST_ORDER[@]}"; do
  TPS[$name]=$(echo "${SAMPLES[$name]}" | median)
  LATMS[$name]=$(echo "${LATSAMPLES[$name]}" | median)
done

# ---------------------------------------------------------------------------------------------
# (f) end-to-end delay

declare -A LAT_P50 LAT_P99 LAT_MAX
for mode in $MODES; do
  cfg=$WORK/lat-$mode.toml
  write_config "$cfg" "$mode" public.lat
  for rate in 1000 10000; do
    key=${mode}_$rate
    psql_q -c "TRUNCATE lat"
    start_pg2ch "$cfg" "$WORK/lat-$key.log"
    "$PROBE" --pg "host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER" --table public.lat \
      --ch-host "$CH_HOST" --ch-port "$CH_PORT" --ch-database "$CH_DB" --ch-table lat \
      --rows-per-tx $((rate / 100)) --interval-ms 10 --duration "$LAT_SECONDS" >"$WORK/lat-$key.json" ||
      die "latency probe failed ($key): $(cat "$WORK/lat-$key.json")"
    stop_pg2ch "$cfg" "$WORK/lat-$key.log"
    LAT_P50[$key]=$(json_field "$WORK/lat-$key.json" p50_ms)
    LAT_P99[$key]=$(json_field "$WORK/lat-$key.json" p99_ms)
    LAT_MAX[$key]=$(json_field "$WORK/lat-$key.json" max_ms)
    log "(f) $mode at $rate rows/s: p50 ${LAT_P50[$key]} ms, p99 ${LAT_P99[$key]} ms"
  done
done

# ---------------------------------------------------------------------------------------------
# Results

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "{"
  echo "  \"commit\": \"$COMMIT\", \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"clients\": $PGBENCH_CLIENTS,"
  echo "  \"write_seconds\": $WRITE_SECONDS, \"rounds\": $ROUNDS, \"latency_seconds\": $LAT_SECONDS,"
  echo "  \"source_cost\": {"
  sep=""
  for name in "${COST_ORDER[@]}"; do
    printf '%s    "%s": {"tps": %s, "latency_ms": %s}' "$sep" "$name" "$(fmt0 "${TPS[$name]}")" "${LATMS[$name]}"
    sep=$',\n'
  done
  echo
  echo "  },"
  echo "  \"delay\": {"
  sep=""
  for mode in $MODES; do
    for rate in 1000 10000; do
      key=${mode}_$rate
      printf '%s    "%s": {"p50_ms": %s, "p99_ms": %s, "max_ms": %s}' "$sep" "$key" "${LAT_P50[$key]}" "${LAT_P99[$key]}" "${LAT_MAX[$key]}"
      sep=$',\n'
    done
  done
  echo
  echo "  }"
  echo "}"
} >"$RESULTS/capture-cost.json"

{
  echo "Capture cost, commit $COMMIT, $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL on tmpfs."
  echo
  echo "Source write cost: pgbench, $PGBENCH_CLIENTS clients, prepared single-row INSERT transactions, $WRITE_SECONDS s"
  echo "each, medians of $ROUNDS rounds that run every configuration in turn."
  echo
  echo "| source table has | tx/s | vs no capture | avg latency ms |"
  echo "|---|---|---|---|"
  for name in "${COST_ORDER[@]}"; do
    echo "| $name | $(fmt0 "${TPS[$name]}") | $(fmt2 "$(calc 'a / b' -v a="${TPS[$name]}" -v b="${TPS[none]}")")x | ${LATMS[$name]} |"
  done
  echo
  echo "Commit -> visible in ClickHouse (default settings of each mode):"
  echo
  echo "| mode | 1k rows/s p50 / p99 / max ms | 10k rows/s p50 / p99 / max ms |"
  echo "|---|---|---|"
  for mode in $MODES; do
    echo "| $mode | ${LAT_P50[${mode}_1000]} / ${LAT_P99[${mode}_1000]} / ${LAT_MAX[${mode}_1000]} | ${LAT_P50[${mode}_10000]} / ${LAT_P99[${mode}_10000]} / ${LAT_MAX[${mode}_10000]} |"
  done
} >"$RESULTS/capture-cost.md"
cat "$RESULTS/capture-cost.md"
