#!/usr/bin/env bash
# What the outbox and notify triggers cost the writing backend in CPU time, against the seed's
# triggers (issue 3: "pg2ch's outbox and notify triggers must cost the source clearly less than
# the seed's"), and optionally in pgbench throughput.
#
#   bench/outbox_trigger_cost.sh
#
# Throughput on a shared 2-core machine mostly measures the other jobs, so this measures CPU time:
# one psql session runs the statements and the backend reads its own /proc/self/schedstat (time
# on CPU, ns) before and after, so only that process's CPU counts, whatever else runs (cache and
# SMT sharing still add a few percent of noise: hence medians of interleaved rounds). Every
# variant has its own source table (same shape) with its triggers installed once; rounds run the
# variants interleaved (A B C A B C ...) and the report gives per-variant medians.
#
# Variants: BENCH_TRIGGER_VARIANTS in bench/lib.sh (no capture, the seed's two triggers, pg2ch's
# outbox with either payload and trigger level, pg2ch's notify); notify and seed_notify are
# compared with seed_notify, the rest with seed.
# (bench/trigger_instructions.sh counts the same triggers' CPU instructions: deterministic where
# these timings drift.)
#
# Environment knobs (defaults in brackets):
#   PG2CH [build with BUILD_DIR]  BUILD_DIR [<repo>/build-bench]  SKIP_BUILD [0]
#   ROUNDS [11]  SINGLE [6000] single-row INSERT transactions per run  MULTI [SINGLE/100]
#   100-row INSERTs per run  VARIANTS [all]  PERF [0]: 1 = also `perf record -g` each variant's
#   single-row run once (needs perf) and print the inclusive share of the backend's samples in
#   the functions a capture trigger adds (trigger call, SPI insert, heap/btree, GUC, sequence)
#   TPS_SECONDS [0]: > 0 = also run pgbench (TPS_CLIENTS [4] clients, single-row INSERT
#   transactions, prepared) for that many seconds per variant, in TPS_ROUNDS [ROUNDS] interleaved
#   rounds after the CPU rounds (a 10 s burst leaves work behind that would skew the CPU runs
#   after it), the issue's own metric; throughput shares the machine with everything else, so run
#   it on a quiet machine
#   KEEP_WORK [0]
#   RESULTS [<repo>/bench/results]: writes outbox-trigger-cost.json and .md there
set -euo pipefail
shopt -s inherit_errexit  # a failed statement inside $(run_once ...) must stop the run, not read as 0 ns

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-11}
SINGLE=${SINGLE:-6000}
MULTI=${MULTI:-$((SINGLE / 100))}
PERF=${PERF:-0}
TPS_SECONDS=${TPS_SECONDS:-0}
TPS_CLIENTS=${TPS_CLIENTS:-4}
TPS_ROUNDS=${TPS_ROUNDS:-$ROUNDS}


# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
VARIANTS=${VARIANTS:-$BENCH_TRIGGER_VARIANTS}
bench_pg2ch_binary
# pg2ch setup creates the ClickHouse targets too, so both servers run.
bench_start_servers

# ---------------------------------------------------------------------------------------------
# Tables and triggers

for v in $VARIANTS; do bench_install_variant "$v"; done

# ---------------------------------------------------------------------------------------------
# Statement files: warm-up (plans, plpgsql compile, caches), then the measured statements between
# two reads of the backend's own CPU time. psql runs each line as its own transaction.

write_script() {  # VARIANT KIND(single|multi|update) COUNT FILE
  local table=src_$1 kind=$2 count=$3 file=$4 stmt per_line=1 next_id=1
  case $kind in
    single) stmt="INSERT INTO $table (name, value) VALUES ('name', 1)" ;;
    multi) stmt="INSERT INTO $table (name, value) SELECT 'name', g FROM generate_series(1, 100) g" ;;
    # A different row each time (reset_variant loads them): the seed's ON CONFLICT would otherwise
    # skip its insert for a key already queued.
    update) stmt="UPDATE $table SET value = value + 1 WHERE id = @ID@" ;;
  esac
  # Single-row runs send 20 transactions per query string (psql's `\;`): each is still its own
  # BEGIN ... COMMIT, but the backend is not woken once per statement, a cost (and noise) that is
  # no trigger's. SINGLE is rounded down to a multiple of 20.
  [ "$kind" != multi ] && per_line=20
  lines() {  # N
    local l i line
    for ((l = 0; l < $1; l++)); do
      line=""
      for ((i = 0; i < per_line; i++)); do
        [ "$i" -gt 0 ] && line+=" \\; "
        line+="BEGIN \\; ${stmt//@ID@/$next_id} \\; COMMIT"
        next_id=$((next_id + 1))
      done
      echo "$line;"
    done
  }
  {
    lines $((200 / per_line))
    echo "SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint AS t0 \\gset"
    lines $((count / per_line))
    echo "SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint - :t0;"
  } >"$file"
}


SINGLE=$((SINGLE / 20 * 20))
for v in $VARIANTS; do
  write_script "$v" single "$SINGLE" "$WORK/$v.single.sql"
  write_script "$v" multi "$MULTI" "$WORK/$v.multi.sql"
  write_script "$v" update "$SINGLE" "$WORK/$v.update.sql"
  echo "INSERT INTO src_$v (name, value) VALUES ('name', 1);" >"$WORK/$v.pgbench.sql"
done

reset_variant() {  # VARIANT [ROWS to load, whose events are then dropped]
  local sql="TRUNCATE public.src_$1 RESTART IDENTITY;" t events=""
  for t in $(bench_variant_queues "$1"); do events+=" TRUNCATE $t;"; done
  [ -n "${2:-}" ] && sql+=" INSERT INTO public.src_$1 (name, value) SELECT 'name', g FROM generate_series(1, $2) g;"
  psql_q -c "$sql$events" -c "CHECKPOINT"
}

# Nanoseconds of backend CPU per statement for one run.
run_once() {  # VARIANT KIND COUNT
  local rows=""
  [ "$2" = update ] && rows=$(($3 + 200))
  reset_variant "$1" $rows
  local ns
  ns=$(psql_q -f "$WORK/$1.$2.sql" | tail -n 1)
  calc 'ns / c' -v ns="$ns" -v c="$3"
}

# Transactions per second of TPS_CLIENTS pgbench clients inserting single rows.
tps_once() {  # VARIANT
  reset_variant "$1"
  local out=$WORK/$1.pgbench.log
  "$PG_BIN/pgbench" -n -M prepared -f "$WORK/$1.pgbench.sql" -c "$TPS_CLIENTS" -j 2 -T "$TPS_SECONDS" "$PGDATABASE" \
    >"$out" 2>&1 || die "pgbench failed: $(tail -n 5 "$out")"
  awk '/^tps = / { print $3 }' "$out"
}

declare -A SAMPLES
for ((r = 1; r <= ROUNDS; r++)); do
  for v in $VARIANTS; do
    SAMPLES[$v.single]+="$(run_once "$v" single "$SINGLE") "
    SAMPLES[$v.multi]+="$(run_once "$v" multi "$MULTI") "
    SAMPLES[$v.update]+="$(run_once "$v" update "$SINGLE") "
  done
  log "round $r/$ROUNDS done (load $(loadavg))"
done
if [ "$TPS_SECONDS" -gt 0 ]; then
  for ((r = 1; r <= TPS_ROUNDS; r++)); do
    for v in $VARIANTS; do SAMPLES[$v.tps]+="$(tps_once "$v") "; done
    log "pgbench round $r/$TPS_ROUNDS done (load $(loadavg))"
  done
fi

minimum() { tr ' ' '\n' | grep -v '^$' | sort -g | head -n 1; }

# The median over rounds of variant/seed within the same round: the load on a shared machine
# drifts over minutes and moves all variants of one round alike, so a ratio taken inside a round
# is steadier than a ratio of medians.
paired_ratio() {  # "V1 V2 ..." "SEED1 SEED2 ..."
  paste -d' ' <(echo "$1" | tr ' ' '\n' | grep -v '^$') <(echo "$2" | tr ' ' '\n' | grep -v '^$') |
    awk '{ print $1 / $2 }' | tr '\n' ' ' | median
}

# ---------------------------------------------------------------------------------------------
# Optional profile: where a variant's single-row statements spend their CPU.

if [ "$PERF" = 1 ]; then
  for v in $VARIANTS; do
    reset_variant "$v"
    coproc PSQL { "$PG_BIN/psql" -X -q -At; }
    echo "SELECT pg_backend_pid();" >&"${PSQL[1]}"
    read -r pid <&"${PSQL[0]}"
    perf record -q -g -p "$pid" -o "$WORK/$v.perf" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
    grep -v '^SELECT' "$WORK/$v.single.sql" >&"${PSQL[1]}"
    echo "SELECT 'done';" >&"${PSQL[1]}"
    read -r _ <&"${PSQL[0]}"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    psql_in=${PSQL[1]}
    exec {psql_in}>&- # end of input: psql exits
    wait "$PSQL_PID" || true
    # Inclusive share of the backend's samples in the steps a capture trigger adds.
    log "perf $v: share of samples (inclusive) in trigger-related functions"
    perf report -q -i "$WORK/$v.perf" --children --sort symbol -g none 2>/dev/null |
      grep -E '\] (AfterTriggerEndQuery|fmgr_security_definer|plpgsql_exec_trigger|SPI_execute_plan_with_paramlist|heap_insert|ExecInsertIndexTuples|_bt_doinsert|ExecCheckIndexConstraints|nextval_internal|jsonb_build_object|to_jsonb|ProcessGUCArray|AtEOXact_GUC|MakeTransitionCaptureState|tuplestore_begin_heap|standard_ExecutorStart|ExecInitModifyTable|CommitTransactionCommand|__GI___kill) ' |
      awk '{ print "  " $1 " " $4 }' >&2 || true
  done
fi

# ---------------------------------------------------------------------------------------------
# Results

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
declare -A MED1 MED100 MIN1 MIN100
for v in $VARIANTS; do
  MIN1[$v]=$(echo "${SAMPLES[$v.single]}" | minimum)
  MIN100[$v]=$(echo "${SAMPLES[$v.multi]}" | minimum)
  MED1[$v]=$(echo "${SAMPLES[$v.single]}" | median)
  MED100[$v]=$(echo "${SAMPLES[$v.multi]}" | median)
done
{
  echo "{"
  echo "  \"commit\": \"$COMMIT\", \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"rounds\": $ROUNDS,"
  echo "  \"single_row_statements\": $SINGLE, \"hundred_row_statements\": $MULTI,"
  echo "  \"cpu_ns_per_statement\": {"
  sep=""
  for v in $VARIANTS; do
    extra_json=""
    extra_json+=", \"one_row_update\": $(fmt0 "$(echo "${SAMPLES[$v.update]}" | median)")"
    [ "$TPS_SECONDS" -gt 0 ] && extra_json+=", \"pgbench_tps\": $(fmt0 "$(echo "${SAMPLES[$v.tps]}" | median)")"
    printf '%s    "%s": {"one_row": %s, "hundred_rows": %s, "one_row_min": %s, "hundred_rows_min": %s%s}' "$sep" "$v" \
      "$(fmt0 "${MED1[$v]}")" "$(fmt0 "${MED100[$v]}")" "$(fmt0 "${MIN1[$v]}")" "$(fmt0 "${MIN100[$v]}")" "$extra_json"
    sep=$',\n'
  done
  echo
  echo "  }"
  echo "}"
} >"$RESULTS/outbox-trigger-cost.json"

# The notify triggers are compared with the seed's notify trigger, the rest with its events trigger.
reference_of() { case $1 in notify | seed_notify) echo seed_notify ;; *) echo seed ;; esac; }
has_reference() { case " $VARIANTS " in *" $(reference_of "$1") "*) return 0 ;; esac; return 1; }
{
  echo "Outbox trigger cost, commit $COMMIT, $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL 15 on tmpfs."
  echo "Writing backend's CPU time (/proc/self/schedstat), median of $ROUNDS interleaved rounds;"
  echo "$SINGLE single-row INSERT transactions and $MULTI 100-row INSERT transactions per run."
  if [ "$TPS_SECONDS" -gt 0 ]; then
    echo "pgbench: $TPS_CLIENTS clients of single-row INSERT transactions, $TPS_SECONDS s per variant, median of"
    echo "$TPS_ROUNDS interleaved rounds run after the CPU rounds."
  fi
  echo
  echo "Medians, minima in brackets; \"vs seed\" is the median of the per-round ratios to the seed's"
  echo "events trigger (to the seed's pg_notify trigger for notify and seed_notify)."
  echo
  tps_head="" tps_rule=""
  if [ "$TPS_SECONDS" -gt 0 ]; then
    tps_head=" pgbench $TPS_CLIENTS clients: tx/s | vs seed |"
    tps_rule="---|---|"
  fi
  echo "| variant | 1-row INSERT: µs CPU/stmt | vs seed | (min) | 100-row INSERT: µs CPU/row | vs seed | (min) |" \
    "1-row UPDATE: µs CPU/stmt | vs seed |$tps_head"
  echo "|---|---|---|---|---|---|---|---|---|$tps_rule"
  for v in $VARIANTS; do
    s1="" s100="" stps=""
    ref=$(reference_of "$v")
    upd="$(fmt2 "$(calc 'a / 1000' -v a="$(echo "${SAMPLES[$v.update]}" | median)")") |"
    if has_reference "$v"; then
      upd+=" $(fmt2 "$(paired_ratio "${SAMPLES[$v.update]}" "${SAMPLES[$ref.update]}")")x |"
    else
      upd+=" |"
    fi
    if has_reference "$v"; then
      s1="$(fmt2 "$(paired_ratio "${SAMPLES[$v.single]}" "${SAMPLES[$ref.single]}")")x"
      s100="$(fmt2 "$(paired_ratio "${SAMPLES[$v.multi]}" "${SAMPLES[$ref.multi]}")")x"
      [ "$TPS_SECONDS" -gt 0 ] && stps="$(fmt2 "$(paired_ratio "${SAMPLES[$v.tps]}" "${SAMPLES[$ref.tps]}")")x"
    fi
    tps_cells=""
    [ "$TPS_SECONDS" -gt 0 ] && tps_cells=" $(fmt0 "$(echo "${SAMPLES[$v.tps]}" | median)") | $stps |"
    echo "| $v | $(fmt2 "$(calc 'a / 1000' -v a="${MED1[$v]}")") | $s1 | $(fmt2 "$(calc 'a / 1000' -v a="${MIN1[$v]}")") |" \
      "$(fmt2 "$(calc 'a / 100000' -v a="${MED100[$v]}")") | $s100 | $(fmt2 "$(calc 'a / 100000' -v a="${MIN100[$v]}")") |" \
      "$upd$tps_cells"
  done
} >"$RESULTS/outbox-trigger-cost.md"
cat "$RESULTS/outbox-trigger-cost.md"
