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
[ -x "$PG2CH" ] && [ -x "$PROBE" ] || die "binaries missing in $BUILD_DIR (build failed?)"
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

JSON=$RESULTS/many-tables.json
: >"$JSON.tmp"

# run_one LABEL BINARY WORKLOAD TOML_EXTRA
run_one() {
  local label=$1 binary=$2 workload=$3 extra=$4
  local name="mt_${label}_${workload}"
  local cfg="$WORK/$name.toml" log="$WORK/$name.log" timefile="$WORK/$name.time"
  cat >"$cfg" <<EOT
name = "$name"
mode = "logical"
[logical]
slot = "$name"
publication = "$name"
[state]
path = "$WORK/$name.state"
[log]
summary_interval_s = 0
[[tables]]
name = "bench.*"
$extra
$EXTRA_TOML
EOT
  chq "CREATE DATABASE IF NOT EXISTS $name" >/dev/null
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
