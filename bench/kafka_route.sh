#!/usr/bin/env bash
# Changes per second through the Kafka route vs the direct route (issue 4).
#
#   bench/kafka_route.sh
#
# Same throwaway servers as bench/run.sh (PostgreSQL on tmpfs, ClickHouse) plus `pg2ch dev kafka`
# (librdkafka's mock cluster: an in-memory broker, so this measures pg2ch, not a broker's disk).
# ROWS rows are inserted in transactions of TX_ROWS rows while the pipelines run; each figure is
# ROWS / (first insert -> the last row visible in ClickHouse, or acknowledged at the slot):
#   direct      logical capture, sink = clickhouse
#   produce     logical capture, sink = kafka: until the slot is confirmed past the last commit
#               (every message delivered)
#   kafka       the whole route: producer and consumer (mode = kafka) running together, until
#               ClickHouse has every row
#   consume     the consumer alone: `replay --from beginning --until-caught-up` into an emptied
#               target (the topic already full; the mock broker keeps only the newest part of
#               each partition, so this counts the messages the replay applied)
# Everything shares the machine's 2 cores (PostgreSQL, ClickHouse, broker, pg2ch processes).
#
# Environment knobs (defaults in brackets):
#   BUILD_DIR [<repo>/build-bench]  ROWS [1000000]  TX_ROWS [10000]  PARTITIONS [3]  FORMAT [debezium]
#   SKIP_BUILD [0]  KEEP_WORK [0]  RESULTS [<repo>/bench/results]: writes kafka-route.{json,md}
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
ROWS=${ROWS:-1000000}
TX_ROWS=${TX_ROWS:-10000}
PARTITIONS=${PARTITIONS:-3}
FORMAT=${FORMAT:-debezium}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_WORK=${KEEP_WORK:-0}
RESULTS=${RESULTS:-$ROOT/bench/results}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CH_DB=db

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_servers

EXTRA_PIDS=()
stop_extra() {
  for pid in "${EXTRA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${EXTRA_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  EXTRA_PIDS=()
}
trap 'stop_extra; bench_cleanup' EXIT

"$PG2CH" dev kafka --topics pg2ch.public.src --partitions "$PARTITIONS" >"$WORK/broker.out" 2>&1 &
EXTRA_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  BROKER=$(sed -n 's/^bootstrap //p' "$WORK/broker.out")
  [ -n "$BROKER" ] && break
  sleep 0.1
done
[ -n "$BROKER" ] || die "pg2ch dev kafka did not start: $(cat "$WORK/broker.out")"
log "test broker at $BROKER ($PARTITIONS partitions)"

psql_q -c "CREATE TABLE src (id bigint PRIMARY KEY, name text NOT NULL, value int NOT NULL,
                             updated_at timestamptz NOT NULL DEFAULT now())"

write_config() {  # FILE NAME MODE SINK
  cat >"$1" <<EOF
name = "$2"
mode = "$3"
sink = "$4"
[logical]
slot = "$2"
publication = "$2"
[kafka]
brokers = "$BROKER"
format = "$FORMAT"
group_id = "bench"
[state]
path = "$WORK/$2.state"
[[tables]]
name = "public.src"
EOF
}

start_bg() {  # CONFIG LOG ARGS...  -> appends to EXTRA_PIDS, waits until it reads
  local config=$1 logfile=$2
  shift 2
  "$PG2CH" --config "$config" "$@" 2>>"$logfile" &
  EXTRA_PIDS+=($!)
  for ((i = 0; i < 600; i++)); do
    grep -q -E "streaming from slot|assigned [0-9]+ partition" "$logfile" && return 0
    kill -0 "${EXTRA_PIDS[-1]}" 2>/dev/null || die "pg2ch exited early: $(tail -n 5 "$logfile")"
    sleep 0.1
  done
  die "pg2ch did not start reading: $(tail -n 5 "$logfile")"
}

insert_rows() {
  local from=1
  while [ "$from" -le "$ROWS" ]; do
    local to=$((from + TX_ROWS - 1))
    [ "$to" -gt "$ROWS" ] && to=$ROWS
    echo "INSERT INTO src (id, name, value) SELECT g, 'name ' || g, g % 1000 FROM generate_series($from, $to) g;"
    from=$((to + 1))
  done | psql_q
}

ch_rows() { chq "SELECT count() FROM $CH_DB.src FINAL WHERE _deleted = 0" 2>/dev/null || echo 0; }
wait_ch_rows() {  # until ClickHouse has ROWS rows
  for ((i = 0; i < 6000; i++)); do
    [ "$(ch_rows)" = "$ROWS" ] && return 0
    sleep 0.1
  done
  die "ClickHouse has $(ch_rows) of $ROWS rows"
}
wait_slot_confirmed() {  # SLOT LSN
  for ((i = 0; i < 6000; i++)); do
    [ "$(psql_q -c "SELECT confirmed_flush_lsn >= '$2'::pg_lsn FROM pg_replication_slots WHERE slot_name = '$1'")" = t ] &&
      return 0
    sleep 0.1
  done
  die "slot $1 not confirmed past $2"
}
reset_source() {
  psql_q -c "TRUNCATE src" -c "CHECKPOINT"
  chq "DROP TABLE IF EXISTS $CH_DB.src" >/dev/null 2>&1 || true
  chq "DROP TABLE IF EXISTS $CH_DB.src__current" >/dev/null 2>&1 || true
}

declare -A RATE SECS

# direct
write_config "$WORK/direct.toml" direct logical clickhouse
start_bg "$WORK/direct.toml" "$WORK/direct.log" run
t0=$(now)
insert_rows
wait_ch_rows
SECS[direct]=$(calc 'b - a' -v a="$t0" -v b="$(now)")
stop_extra_pg2ch() { kill -TERM "${EXTRA_PIDS[-1]}"; wait "${EXTRA_PIDS[-1]}" || true; unset 'EXTRA_PIDS[-1]'; }
stop_extra_pg2ch
"$PG2CH" --config "$WORK/direct.toml" teardown --drop-target >>"$WORK/direct.log" 2>&1
log "direct: $ROWS rows in $(fmt2 "${SECS[direct]}") s"
reset_source

# produce + consume together (the whole route); the producer's own rate from its slot
write_config "$WORK/producer.toml" producer logical kafka
write_config "$WORK/consumer.toml" consumer kafka clickhouse
start_bg "$WORK/producer.toml" "$WORK/producer.log" run
start_bg "$WORK/consumer.toml" "$WORK/consumer.log" run
t0=$(now)
insert_rows
end_lsn=$(psql_q -c "SELECT pg_current_wal_lsn()")
wait_slot_confirmed producer "$end_lsn"
SECS[produce]=$(calc 'b - a' -v a="$t0" -v b="$(now)")
wait_ch_rows
SECS[kafka]=$(calc 'b - a' -v a="$t0" -v b="$(now)")
log "kafka route: produced in $(fmt2 "${SECS[produce]}") s, in ClickHouse after $(fmt2 "${SECS[kafka]}") s"
stop_extra_pg2ch  # consumer
stop_extra_pg2ch  # producer

# the consumer alone, from a full topic into an empty table
# The mock broker keeps only the newest part of each partition, so the replay reads fewer than
# ROWS messages: its rate is the messages it applied over its own run time (it exits once
# everything that was in the topic at its start is in ClickHouse).
# A group of its own: the mock broker would hold the old group's rebalance until the departed
# member's session times out. Timed from the assignment to the end (joining a group is not
# consuming), with millisecond log timestamps.
chq "TRUNCATE TABLE $CH_DB.src" >/dev/null
"$PG2CH" --config "$WORK/consumer.toml" --set kafka.group_id=bench-replay replay --from beginning --until-caught-up \
  2>>"$WORK/replay.log" || die "replay failed: $(tail -n 5 "$WORK/replay.log")"
log_seconds() {  # PATTERN: the time of day of the last log line matching it, in seconds
  grep "$1" "$WORK/replay.log" | tail -n 1 | awk '{ split($2, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3] }'
}
SECS[consume]=$(calc 'b - a' -v a="$(log_seconds 'assigned [0-9]* partition')" -v b="$(log_seconds 'stopped: ')")
REPLAYED=$(sed -n 's/.*stopped: \([0-9]*\) messages.*/\1/p' "$WORK/replay.log" | tail -n 1)
[ "$(ch_rows)" = "$REPLAYED" ] || die "replay applied $REPLAYED messages but ClickHouse has $(ch_rows) rows"
log "consumer alone (replay): $REPLAYED messages in $(fmt2 "${SECS[consume]}") s"

# `pg2ch resync public.src` on the running producer: the table copied again while streaming, in
# the stream's order through Kafka (src/capture/logical/watermark_copy.h); the producer's own
# figure, from its log: from the copy's start until its last chunk was durable. Last, after the
# replay (its truncate would be in the replayed topic), and without a consumer: the copy
# produces faster than a consumer applies, and the mock broker would drop the messages it had
# not read yet (a real broker keeps them).
start_bg "$WORK/producer.toml" "$WORK/producer.log" run
"$PG2CH" --config "$WORK/producer.toml" resync public.src >>"$WORK/resync.log" 2>&1 || die "resync: $(cat "$WORK/resync.log")"
for ((i = 0; i < 6000; i++)); do
  grep -q "in the stream's order; it streams" "$WORK/producer.log" && break
  sleep 0.1
done
copy_line=$(grep "in the stream's order; it streams" "$WORK/producer.log" | tail -n 1)
[ -n "$copy_line" ] || die "the producer logged no finished resync: $(tail -n 5 "$WORK/producer.log")"
SECS[resync]=$(sed -E 's/.* in ([0-9.]+) s in the stream.*/\1/' <<<"$copy_line")
RESYNC_CHUNKS=$(sed -E 's/.*, ([0-9]+) chunk\(s\).*/\1/' <<<"$copy_line")
log "resync while streaming: $ROWS rows copied in $(fmt2 "${SECS[resync]}") s ($RESYNC_CHUNKS chunks)"
stop_extra_pg2ch  # producer

for k in direct produce kafka resync; do RATE[$k]=$(calc 'r / s' -v r="$ROWS" -v s="${SECS[$k]}"); done
RATE[consume]=$(calc 'r / s' -v r="$REPLAYED" -v s="${SECS[consume]}")
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$RESULTS/kafka-route.json" <<EOF
{"date":"$date_utc","rows":$ROWS,"tx_rows":$TX_ROWS,"partitions":$PARTITIONS,"format":"$FORMAT",
 "direct_s":$(fmt3 "${SECS[direct]}"),"produce_s":$(fmt3 "${SECS[produce]}"),"kafka_s":$(fmt3 "${SECS[kafka]}"),
 "consume_s":$(fmt3 "${SECS[consume]}"),"replayed_messages":$REPLAYED,
 "resync_s":$(fmt3 "${SECS[resync]}"),"resync_chunks":$RESYNC_CHUNKS}
EOF
cat >"$RESULTS/kafka-route.md" <<EOF
Kafka route vs direct ($date_utc): $ROWS rows inserted in transactions of $TX_ROWS, $PARTITIONS partitions,
format $FORMAT, mock broker (in memory), everything on 2 cores.

| path | seconds | changes/s | vs direct |
| --- | ---: | ---: | ---: |
| direct (logical → ClickHouse) | $(fmt2 "${SECS[direct]}") | $(fmt0 "${RATE[direct]}") | 1.00x |
| producer (logical → Kafka, slot confirmed) | $(fmt2 "${SECS[produce]}") | $(fmt0 "${RATE[produce]}") | $(fmt2 "$(calc 'a / b' -v a="${RATE[produce]}" -v b="${RATE[direct]}")")x |
| whole route (→ Kafka → consumer → ClickHouse) | $(fmt2 "${SECS[kafka]}") | $(fmt0 "${RATE[kafka]}") | $(fmt2 "$(calc 'a / b' -v a="${RATE[kafka]}" -v b="${RATE[direct]}")")x |
| consumer alone (replay of the $REPLAYED messages the broker kept) | $(fmt2 "${SECS[consume]}") | $(fmt0 "${RATE[consume]}") | $(fmt2 "$(calc 'a / b' -v a="${RATE[consume]}" -v b="${RATE[direct]}")")x |
| \`pg2ch resync\` of the $ROWS rows on the running producer, copied in the stream's order ($RESYNC_CHUNKS chunks; rows/s) | $(fmt2 "${SECS[resync]}") | $(fmt0 "${RATE[resync]}") | $(fmt2 "$(calc 'a / b' -v a="${RATE[resync]}" -v b="${RATE[direct]}")")x |
EOF
cat "$RESULTS/kafka-route.md"
