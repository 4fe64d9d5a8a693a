#!/usr/bin/env bash
# Many tables with small transactions (issue 18): what a logical pipeline over TABLES tables asks
# of ClickHouse. Two workloads of DURATION seconds each, single-row UPDATE transactions at TX_PER_SECOND:
#   trickle  spread uniformly over all tables;
#   hot      HOT tables take HOT_SHARE of them, the other tables share the rest.
# Per run (bench/many_tables_probe.cpp): INSERTs/s and active parts in ClickHouse over the write
# window, commit -> visible p50/p99 for hot and cold tables, and pg2ch's peak RSS
# (/usr/bin/time -v). Each run is a fresh pipeline (own slot, own ClickHouse database) started on
# TABLES tables of ROWS_PER_TABLE rows and measured once it streams.
#
#   bench/many_tables.sh                      the built pg2ch with its defaults ("after")
#   PG2CH_BEFORE=/path/to/old/pg2ch bench/many_tables.sh
#                                             also an older binary, same workloads ("before")
#   VARIANTS="default async async_only no_budget"
#                                             async: clickhouse.async_insert = true (needs a
#                                             ClickHouse >= 21.11: CH_LOCAL=chdb-local.sh for the
#                                             26.7 engine; Debian's 18.16 refuses it); async_only:
#                                             without the global budget; no_budget: neither
#
#   SCALE=1 bench/many_tables.sh              instead (issue 14): TABLES tables vs one table of the
#                                             same rows, each its own pipeline: `setup` time, the
#                                             initial copy (time, peak RSS), then every row
#                                             updated while pg2ch is stopped (one transaction per
#                                             ROWS_PER_TABLE rows, both sides) and drained by
#                                             `run --until-caught-up`: changes/s, peak RSS.
#                                             Results: results/many-tables-scale.{json,md}.
# Knobs: TABLES [500] ROWS_PER_TABLE [200] TX_PER_SECOND [1500] DURATION [60] HOT [5]
# HOT_SHARE [0.8] WORKLOADS ["trickle hot"] VARIANTS ["default"] EXTRA_TOML (appended to every
# config, e.g. $'[batch]\nmax_inserts_per_second = 50'). Results: results/many-tables.{json,md}.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

TABLES=${TABLES:-500}
ROWS_PER_TABLE=${ROWS_PER_TABLE:-200}
TX_PER_SECOND=${TX_PER_SECOND:-1500}
DURATION=${DURATION:-60}
HOT=${HOT:-5}
HOT_SHARE=${HOT_SHARE:-0.8}
WORKLOADS=${WORKLOADS:-trickle hot}
VARIANTS=${VARIANTS:-default}
EXTRA_TOML=${EXTRA_TOML:-}

if [ "$SKIP_BUILD" != 1 ]; then
  log "building Release in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" --target pg2ch pg2ch_many_tables_probe >/dev/null
fi
PG2CH=${PG2CH:-$BUILD_DIR/pg2ch}
PROBE=$BUILD_DIR/bench/pg2ch_many_tables_probe
[ -x "$PG2CH" ] || die "pg2ch missing in $BUILD_DIR (build failed?)"
SCALE=${SCALE:-0}
[ "$SCALE" = 1 ] || [ -x "$PROBE" ] || die "probe missing in $BUILD_DIR (build failed?)"
mkdir -p "$RESULTS"

bench_start_servers

log "creating $TABLES tables of $ROWS_PER_TABLE rows in schema bench"
psql_q <<SQL
CREATE SCHEMA bench;
DO \$\$
BEGIN
  FOR k IN 0..$((TABLES - 1)) LOOP
    EXECUTE format('CREATE TABLE bench.t%s (id int PRIMARY KEY, seq bigint NOT NULL DEFAULT 0, payload text NOT NULL)', k);
    EXECUTE format('INSERT INTO bench.t%s SELECT g, 0, repeat(''x'', 40) FROM generate_series(1, $ROWS_PER_TABLE) g', k);
  END LOOP;
END
\$\$;
SQL

# SCALE=1: one pipeline over the TABLES tables, one over the same rows in one table.
scale_one() {  # LABEL PATTERN UPDATE_SQL_FILE
  local name="scale_$1" pattern=$2 updates=$3
  local load t0 setup_s copy_s copy_rss cdc_s cdc_rss changes
  bench_logical_config "$name" "$pattern" "$EXTRA_TOML"
  load=$(loadavg)
  t0=$(now)
  CH_DATABASE=$name "$PG2CH" --config "$WORK/$name.toml" setup >"$WORK/$name.setup.log" 2>&1 ||
    die "setup failed: $(tail -n 5 "$WORK/$name.setup.log")"
  setup_s=$(calc 'b - a' -v a="$t0" -v b="$(now)")
  bench_timed_catch_up "$name" "$name.copy"
  copy_s=$(sed -nE 's/.*initial snapshot done: .* in ([0-9.]+) s.*/\1/p' "$WORK/$name.copy.log")
  copy_rss=$RUN_RSS_MB
  psql_q -f "$updates" >/dev/null
  changes=$((TABLES * ROWS_PER_TABLE))
  bench_timed_catch_up "$name" "$name.cdc"
  cdc_s=$RUN_S
  cdc_rss=$RUN_RSS_MB
  "$PG2CH" --config "$WORK/$name.toml" teardown >>"$WORK/teardown.log" 2>&1 || true
  log "$1: setup $(fmt2 "$setup_s") s, copy $copy_s s ($copy_rss MB), $changes changes in $(fmt2 "$cdc_s") s ($cdc_rss MB)"
  printf '{"layout":"%s","tables":%s,"rows":%s,"loadavg":%s,"setup_s":%s,"copy_s":%s,"copy_peak_rss_mb":%s,"cdc_changes":%s,"cdc_s":%s,"cdc_changes_per_s":%s,"cdc_peak_rss_mb":%s}\n' \
    "$1" "$(psql_q -c "SELECT count(*) FROM pg_tables WHERE schemaname || '.*' = '$pattern'")" "$changes" "$load" \
    "$(fmt2 "$setup_s")" "$copy_s" "$copy_rss" "$changes" "$(fmt2 "$cdc_s")" "$(fmt0 "$(calc 'c / s' -v c="$changes" -v s="$cdc_s")")" \
    "$cdc_rss" >>"$SCALE_JSON.tmp"
}

if [ "$SCALE" = 1 ]; then
  log "creating one.big with the same $((TABLES * ROWS_PER_TABLE)) rows"
  psql_q -c "CREATE SCHEMA one" -c "CREATE TABLE one.big (id int PRIMARY KEY, seq bigint NOT NULL DEFAULT 0, payload text NOT NULL)" \
    -c "INSERT INTO one.big SELECT g, 0, repeat('x', 40) FROM generate_series(1, $((TABLES * ROWS_PER_TABLE))) g"
  # Every row updated once, ROWS_PER_TABLE rows a transaction on both sides.
  for k in $(seq 0 $((TABLES - 1))); do echo "UPDATE bench.t$k SET seq = seq + 1;"; done >"$WORK/many.sql"
  for k in $(seq 0 $((TABLES - 1))); do
    echo "UPDATE one.big SET seq = seq + 1 WHERE id > $((k * ROWS_PER_TABLE)) AND id <= $(((k + 1) * ROWS_PER_TABLE));"
  done >"$WORK/one.sql"
  SCALE_JSON=$RESULTS/many-tables-scale.json
  : >"$SCALE_JSON.tmp"
  scale_one many "bench.*" "$WORK/many.sql"
  scale_one one "one.*" "$WORK/one.sql"
  mv "$SCALE_JSON.tmp" "$SCALE_JSON"
  {
    echo "| Layout | Tables | Rows | setup | Initial copy (peak RSS) | CDC: every row updated once | CDC peak RSS | Load avg |"
    echo "|---|---|---|---|---|---|---|---|"
    while read -r line; do
      f() { echo "$line" | sed -E "s/.*\"$1\":\"?([^,\"}]+).*/\\1/"; }
      echo "| $(f layout) | $(f tables) | $(f rows) | $(f setup_s) s | $(f copy_s) s ($(f copy_peak_rss_mb) MB) |" \
        "$(f cdc_changes) changes in $(f cdc_s) s = $(f cdc_changes_per_s)/s | $(f cdc_peak_rss_mb) MB | $(f loadavg) |"
    done <"$SCALE_JSON"
  } >"$RESULTS/many-tables-scale.md"
  log "results: $SCALE_JSON, $RESULTS/many-tables-scale.md"
  cat "$RESULTS/many-tables-scale.md"
  exit 0
fi

JSON=$RESULTS/many-tables.json
: >"$JSON.tmp"

# run_one LABEL BINARY WORKLOAD TOML_EXTRA
run_one() {
  local label=$1 binary=$2 workload=$3 extra=$4
  local name="mt_${label}_${workload}"
  local cfg="$WORK/$name.toml" log="$WORK/$name.log" timefile="$WORK/$name.time"
  bench_logical_config "$name" "bench.*" "$extra
$EXTRA_TOML"
  log "$label / $workload: starting pg2ch ($binary)"
  CH_DATABASE=$name /usr/bin/time -v -o "$timefile" "$binary" --config "$cfg" run >"$log" 2>&1 &
  BG_PID=$!
  local waited=0
  until grep -q "streaming from slot" "$log"; do
    sleep 1
    waited=$((waited + 1))
    kill -0 "$BG_PID" 2>/dev/null || die "pg2ch stopped: $(tail -n 5 "$log")"
    [ $waited -lt 600 ] || die "pg2ch did not start streaming in 600 s"
  done
  sleep 2
  local hot=0
  [ "$workload" = hot ] && hot=$HOT
  local load
  load=$(loadavg)
  log "$label / $workload: $DURATION s of $TX_PER_SECOND tx/s over $TABLES tables (hot tables: $hot)"
  local out
  out=$("$PROBE" --pg "host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER password=$PG_PASSWORD" \
    --ch-host "$CH_HOST" --ch-port "$CH_PORT" --ch-user "$CH_USER" --ch-database "$name" \
    --tables "$TABLES" --tx-per-second "$TX_PER_SECOND" --hot-tables "$hot" --hot-share "$HOT_SHARE" \
    --duration "$DURATION") || die "probe failed for $label / $workload: $out"
  # BG_PID is /usr/bin/time, which does not pass signals on: stop pg2ch, its child.
  pkill -TERM -P "$BG_PID" || true
  wait "$BG_PID" || true
  BG_PID=""
  local rss_kb
  rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+).*/\1/p' "$timefile")
  "$binary" --config "$cfg" teardown >>"$WORK/teardown.log" 2>&1 || true
  log "$label / $workload: $out, peak RSS $((rss_kb / 1024)) MB"
  printf '{"variant":"%s","workload":"%s","loadavg":%s,"peak_rss_mb":%s,"probe":%s}\n' \
    "$label" "$workload" "$load" "$((rss_kb / 1024))" "$out" >>"$JSON.tmp"
}

for variant in $VARIANTS; do
  case $variant in
    default) extra="" ;;
    async) extra=$'[clickhouse]\nasync_insert = true' ;;
    async_only) extra=$'[clickhouse]\nasync_insert = true\n[batch]\nmax_inserts_per_second = 0' ;;
    no_budget) extra=$'[batch]\nmax_inserts_per_second = 0' ;;
    *) die "unknown variant $variant" ;;
  esac
  for workload in $WORKLOADS; do
    [ -z "${PG2CH_BEFORE:-}" ] || run_one "before_$variant" "$PG2CH_BEFORE" "$workload" "$extra"
    run_one "$variant" "$PG2CH" "$workload" "$extra"
  done
done
mv "$JSON.tmp" "$JSON"

{
  echo "| Variant | Workload | INSERTs/s | Active parts after ${DURATION} s | Hot p50 / p99 | Cold p50 / p99 (max) | Peak RSS | Load avg |"
  echo "|---|---|---|---|---|---|---|---|"
  while read -r line; do
    f() { echo "$line" | sed -E "s/.*\"$1\":\"?([^,\"}]+).*/\\1/"; }
    hot="-"
    [ "$(f hot_tables)" = 0 ] || hot="$(f hot_p50_ms) / $(f hot_p99_ms) ms"
    echo "| $(f variant) | $(f workload) | $(f inserts_per_second) | $(f active_parts) | $hot |" \
      "$(f cold_p50_ms) / $(f cold_p99_ms) ($(f cold_max_ms)) ms | $(f peak_rss_mb) MB | $(f loadavg) |"
  done <"$JSON"
} >"$RESULTS/many-tables.md"
log "results: $JSON, $RESULTS/many-tables.md"
cat "$RESULTS/many-tables.md"
