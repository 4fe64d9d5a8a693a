#!/usr/bin/env bash
# End-to-end demo on a fresh machine: installs what it needs, builds pg2ch, starts a local
# PostgreSQL 15 and ClickHouse, creates the seed's source_table plus customers/orders, streams a
# write workload through pg2ch while printing live progress, and ends by showing that
# PostgreSQL and ClickHouse agree.
#
#   scripts/demo.sh [--seconds N] [--rate TPS] [--keep]
#     --seconds  workload duration (default 20)
#     --rate     workload transactions per second (default 1000)
#     --keep     leave the servers running afterwards (DIR is printed)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_TOTAL=20
RATE=1000
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--seconds N] [--rate TPS] [--keep]" >&2; exit 2 ;;
  esac
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing packages (Debian) and building pg2ch"
bash "$ROOT/scripts/install-deps.sh"
cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPG2CH_BUILD_TESTS=OFF \
  -DPG2CH_BUILD_BENCH=OFF >/dev/null
cmake --build "$ROOT/build-release" --target pg2ch
PG2CH="$ROOT/build-release/pg2ch"

DIR=$(mktemp -d /tmp/pg2ch-demo.XXXXXX)
chmod 755 "$DIR"
PG2CH_PID=""
cleanup() {
  [ -n "$PG2CH_PID" ] && kill "$PG2CH_PID" 2>/dev/null && wait "$PG2CH_PID" 2>/dev/null || true
  if [ "$KEEP" = 0 ]; then
    bash "$ROOT/scripts/pg-local.sh" stop "$DIR/pg" >/dev/null 2>&1 || true
    bash "$ROOT/scripts/ch-local.sh" stop "$DIR/ch" >/dev/null 2>&1 || true
    rm -rf "$DIR"
  else
    echo "servers left running; stop them with: scripts/pg-local.sh stop $DIR/pg; scripts/ch-local.sh stop $DIR/ch"
  fi
}
trap cleanup EXIT

step "Starting PostgreSQL 15 and ClickHouse in $DIR"
bash "$ROOT/scripts/pg-local.sh" start "$DIR/pg" >/dev/null
bash "$ROOT/scripts/ch-local.sh" start "$DIR/ch" >/dev/null
eval "$(bash "$ROOT/scripts/pg-local.sh" env "$DIR/pg")"
eval "$(bash "$ROOT/scripts/ch-local.sh" env "$DIR/ch")"
export PG_DB=demo CH_DATABASE=demo
export PGHOST=$PG_HOST PGPORT=$PG_PORT PGUSER=postgres PGPASSWORD=postgres PGDATABASE=demo
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
ch() { curl -sS --fail-with-body "http://$CH_HOST:$CH_PORT/" --data-binary "$1"; }
echo "PostgreSQL on $PG_HOST:$PG_PORT, ClickHouse $(ch 'SELECT version()') on $CH_HOST:$CH_PORT"

step "Creating source tables and seed data"
psql -d postgres -c "CREATE DATABASE demo"
psql <<'SQL'
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE TABLE source_table (id serial PRIMARY KEY, name text NOT NULL, value double precision);
CREATE TABLE customers (
  id bigserial PRIMARY KEY, email text NOT NULL, name text, created_at timestamptz NOT NULL DEFAULT now(),
  tags text[], profile jsonb);
CREATE TABLE orders (
  id bigserial PRIMARY KEY, customer_id bigint NOT NULL, status order_status NOT NULL DEFAULT 'new',
  amount numeric(12,2) NOT NULL, placed_at timestamptz NOT NULL DEFAULT now(),
  ref uuid NOT NULL DEFAULT gen_random_uuid(), note text);
INSERT INTO source_table (name, value) SELECT 'name ' || g, g * 1.5 FROM generate_series(1, 200000) g;
INSERT INTO customers (email, name, tags, profile)
  SELECT 'user' || g || '@example.com', 'User ' || g, ARRAY['tag' || (g % 7), 'vip'],
         jsonb_build_object('age', 20 + g % 50, 'city', 'City ' || (g % 100))
    FROM generate_series(1, 20000) g;
INSERT INTO orders (customer_id, amount, status, note)
  SELECT 1 + g % 20000, (g % 10000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3]::order_status,
         CASE WHEN g % 5 = 0 THEN 'gift' END
    FROM generate_series(1, 100000) g;
SQL
psql -At -c "SELECT 'source_table ' || count(*) FROM source_table UNION ALL SELECT 'customers    ' || count(*) FROM customers UNION ALL SELECT 'orders       ' || count(*) FROM orders"

cat >"$DIR/pg2ch.toml" <<TOML
name = "demo"
[logical]
slot = "pg2ch_demo"
publication = "pg2ch_demo"
[batch]
max_delay_ms = 200
[state]
path = "$DIR/pg2ch.state"
[service]
metrics_listen = "127.0.0.1:0"   # any free port; the log names it
[log]
summary_interval_s = 10
[[tables]]
name = "public.*"
TOML
echo "config: $DIR/pg2ch.toml (connection settings come from PG_* / CH_* environment variables)"

step "pg2ch setup"
"$PG2CH" --config "$DIR/pg2ch.toml" setup

step "pg2ch run (initial snapshot, then streaming) — log in $DIR/pg2ch.log"
"$PG2CH" --config "$DIR/pg2ch.toml" run >"$DIR/pg2ch.log" 2>&1 &
PG2CH_PID=$!
for _ in $(seq 1 120); do
  grep -q "initial snapshot done" "$DIR/pg2ch.log" && break
  sleep 0.5
done
grep -E "initial (copy|snapshot)" "$DIR/pg2ch.log" | sed 's/^/  /'
METRICS=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$DIR/pg2ch.log" | head -1)

cat >"$DIR/workload.sql" <<'SQL'
\set sid random(1, 200000)
\set oid random(1, 100000)
\set cid random(1, 20000)
BEGIN;
INSERT INTO source_table (name, value) VALUES ('new ' || :sid, random() * 1000);
UPDATE source_table SET value = value + 1, name = name || '+' WHERE id = :sid;
INSERT INTO orders (customer_id, amount) VALUES (:cid, round((random() * 500)::numeric, 2));
UPDATE orders SET status = 'paid' WHERE id = :oid AND status = 'new';
UPDATE customers SET profile = jsonb_set(profile, '{visits}', to_jsonb(:oid)) WHERE id = :cid;
DELETE FROM source_table WHERE id = :sid + 1;
END;
SQL

counts_pg() { psql -At -F' ' -c "SELECT (SELECT count(*) FROM source_table), (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)"; }
counts_ch() {
  ch "SELECT (SELECT count() FROM demo.source_table FINAL WHERE _deleted = 0), (SELECT count() FROM demo.customers FINAL WHERE _deleted = 0), (SELECT count() FROM demo.orders FINAL WHERE _deleted = 0) FORMAT TSV" 2>/dev/null | tr '\t' ' ' || echo "- - -"
}

step "Write workload: ${RATE} tx/s for ${SECONDS_TOTAL}s (6 statements each) while pg2ch streams"
pgbench -n -c 4 -j 2 -R "$RATE" -T "$SECONDS_TOTAL" -f "$DIR/workload.sql" demo >"$DIR/pgbench.log" 2>&1 &
BENCH_PID=$!
printf '%-6s  %-34s  %-34s\n' "time" "PostgreSQL (source/customers/orders)" "ClickHouse (current state)"
t=0
while kill -0 "$BENCH_PID" 2>/dev/null; do
  printf '%-6s  %-34s  %-34s\n' "${t}s" "$(counts_pg)" "$(counts_ch)"
  sleep 2
  t=$((t + 2))
done
wait "$BENCH_PID" || { cat "$DIR/pgbench.log"; exit 1; }
grep -E "^(tps|latency average)" "$DIR/pgbench.log" || true

step "Waiting for pg2ch to catch up"
for _ in $(seq 1 60); do
  [ "$(counts_pg)" = "$(counts_ch)" ] && break
  sleep 1
done
printf '%-6s  %-34s  %-34s\n' "final" "$(counts_pg)" "$(counts_ch)"
sleep 1

step "PostgreSQL vs ClickHouse (count and checksums of the current state)"
printf '%-14s %-44s %-44s %s\n' table postgresql clickhouse equal
ok=1
compare() {
  local table=$1 pgq=$2 chq=$3 pgv chv eq=yes
  pgv=$(psql -At -F' ' -c "SELECT $pgq FROM $table")
  chv=$(ch "SELECT $chq FROM demo.$table FINAL WHERE _deleted = 0 FORMAT TSV" | tr '\t' ' ')
  [ "$pgv" = "$chv" ] || { eq=NO; ok=0; }
  printf '%-14s %-44s %-44s %s\n' "$table" "$pgv" "$chv" "$eq"
}
compare source_table "count(*), sum(id), sum(floor(value * 100))::bigint, sum(length(name))" \
  "count(), sum(id), toInt64(sum(floor(value * 100))), sum(length(name))"
compare customers "count(*), sum(id), sum(cardinality(tags)), sum(length(profile::text))" \
  "count(), sum(id), sum(length(tags)), sum(length(profile))"
compare orders "count(*), sum(id), sum(amount), sum(CASE status WHEN 'paid' THEN 1 ELSE 0 END)" \
  "count(), sum(id), sum(amount), countIf(status = 'paid')"
echo
"$PG2CH" --config "$DIR/pg2ch.toml" status || true
if [ -n "$METRICS" ]; then
  step "curl $METRICS | grep (what Prometheus scrapes)"
  curl -s "$METRICS" | grep -E '^pg2ch_(changes_total|rows_written_total|replication_lag|slot_retained|state\{state="streaming"\})' || true
fi
kill "$PG2CH_PID" && wait "$PG2CH_PID" || true
PG2CH_PID=""
if [ "$ok" = 1 ]; then
  printf '\nPostgreSQL and ClickHouse agree.\n'
else
  printf '\nMISMATCH: see %s/pg2ch.log\n' "$DIR"
  KEEP=1
  exit 1
fi
