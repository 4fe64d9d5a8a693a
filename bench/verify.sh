#!/usr/bin/env bash
# How long `pg2ch verify` takes on a large table, and how much memory pg2ch uses for it (issue 13
# item 1: bounded memory whatever the table's size).
#
#   bench/verify.sh
#
# Same throwaway servers as bench/run.sh (PostgreSQL on tmpfs, ClickHouse 18.16). A table of ROWS
# rows (bigint key, text, int, numeric(12,2), timestamptz) is copied by `pg2ch run
# --until-caught-up`, then verified twice: equal, and after DRIFT rows were changed in ClickHouse
# behind pg2ch's back (half deleted, half altered), which makes verify split buckets and match
# keys. Each run: wall time and pg2ch's peak RSS (GNU time); the servers' own work is in the wall
# time, their memory is not counted.
#
# Environment knobs (defaults in brackets):
#   BUILD_DIR [<repo>/build-bench]  ROWS [10000000]  DRIFT [20]  SKIP_BUILD [0]  KEEP_WORK [0]
#   RESULTS [<repo>/bench/results]: writes verify.{json,md}
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-10000000}
DRIFT=${DRIFT:-20}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_pg2ch_binary
bench_start_servers

log "filling public.src with $ROWS rows"
psql_q -c "CREATE TABLE src (id bigint PRIMARY KEY, name text NOT NULL, value int NOT NULL,
           amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)"
psql_q -c "INSERT INTO src SELECT g, 'name ' || g, g % 1000, (g % 100000) / 100.0,
           '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, $ROWS) g"
psql_q -c "VACUUM ANALYZE src"

cat >"$WORK/verify.toml" <<EOT
name = "verify_bench"
mode = "logical"
[logical]
slot = "verify_bench"
publication = "verify_bench"
[state]
path = "$WORK/verify.state"
[[tables]]
name = "public.src"
EOT
log "copying it with pg2ch"
started=$(now)
"$PG2CH" --config "$WORK/verify.toml" --log-level warn run --until-caught-up >"$WORK/run.log" 2>&1 ||
  die "pg2ch run failed: $(tail -n 5 "$WORK/run.log")"
copy_s=$(calc 'b - a' -v a="$started" -v b="$(now)")

# verify once; sets SECONDS_TAKEN, RSS_MB, EXIT and keeps the report in $WORK/$1.out
run_verify() {
  local started rc=0
  started=$(now)
  /usr/bin/time -v -o "$WORK/$1.time" "$PG2CH" --config "$WORK/verify.toml" --log-level warn verify --settle-ms 0 \
    >"$WORK/$1.out" 2>"$WORK/$1.err" || rc=$?
  SECONDS_TAKEN=$(calc 'b - a' -v a="$started" -v b="$(now)")
  RSS_MB=$(calc 'k / 1024' -v k="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$1.time")")
  EXIT=$rc
}

log "verify, tables equal"
run_verify equal
[ "$EXIT" = 0 ] || die "verify of equal tables exited $EXIT: $(cat "$WORK/equal.out" "$WORK/equal.err")"
equal_s=$SECONDS_TAKEN equal_rss=$RSS_MB

log "changing $DRIFT rows in ClickHouse behind pg2ch's back"
half=$((DRIFT / 2))
chq "INSERT INTO $CH_DB.src (id, name, value, amount, updated_at, _version, _deleted)
     SELECT id, name, value, amount, updated_at, 18446744073709551000, 1 FROM $CH_DB.src
     WHERE id % $((ROWS / half)) = 7 LIMIT $half" >/dev/null
chq "INSERT INTO $CH_DB.src (id, name, value, amount, updated_at, _version, _deleted)
     SELECT id, 'drifted', value, amount, updated_at, 18446744073709551000, 0 FROM $CH_DB.src
     WHERE id % $((ROWS / half)) = 11 LIMIT $half" >/dev/null
log "verify, $DRIFT rows differ"
run_verify drift
[ "$EXIT" = 3 ] || die "verify of drifted tables exited $EXIT (expected 3): $(cat "$WORK/drift.out" "$WORK/drift.err")"
found=$(grep -c -E '^  (missing in ClickHouse|different) ' "$WORK/drift.out" || true)
drift_s=$SECONDS_TAKEN drift_rss=$RSS_MB

commit=$(git -C "$ROOT" rev-parse --short HEAD)
cat >"$RESULTS/verify.json" <<EOT
{"commit":"$commit","rows":$ROWS,"copy_s":$(fmt2 "$copy_s"),"equal_s":$(fmt2 "$equal_s"),"equal_rss_mb":$(fmt0 "$equal_rss"),
 "drift_rows":$DRIFT,"drift_found":$found,"drift_s":$(fmt2 "$drift_s"),"drift_rss_mb":$(fmt0 "$drift_rss")}
EOT
cat >"$RESULTS/verify.md" <<EOT
| pg2ch verify, $ROWS rows (commit $commit) | wall time | pg2ch peak RSS |
|---|---|---|
| tables equal | $(fmt2 "$equal_s") s | $(fmt0 "$equal_rss") MB |
| $DRIFT rows changed in ClickHouse ($found of them named) | $(fmt2 "$drift_s") s | $(fmt0 "$drift_rss") MB |

(The initial copy of the same table by \`pg2ch run\` took $(fmt2 "$copy_s") s.)
EOT
cat "$RESULTS/verify.md"
