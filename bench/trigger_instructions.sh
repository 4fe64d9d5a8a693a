#!/usr/bin/env bash
# What each capture trigger costs the writing backend, in CPU instructions: deterministic, so two
# designs can be compared on a shared machine where timings drift by ±15 % (issue 3: "pg2ch's
# outbox and notify triggers must cost the source clearly less than the seed's").
#
#   bench/trigger_instructions.sh
#
# The real `pg2ch setup` installs each variant on its own table (same shape) in a throwaway
# PostgreSQL 15; the server then stops, and for each variant a stand-alone backend
# (`postgres --single`, the same executor, trigger and WAL code as a server backend) runs N1 and
# N2 statements of a kind under `valgrind --tool=callgrind`. (instructions(N2) - instructions(N1))
# / (N2 - N1) is the cost of one statement, start-up and shutdown cancelling out. Each line is
# its own transaction (autocommit), as in the issue's pgbench workload.
#
# Kinds: single (1-row INSERT), multi (100-row INSERT, per row), update (1-row UPDATE of a
# different row each time).
#
# Variants: BENCH_TRIGGER_VARIANTS in bench/lib.sh (no capture, the seed's two triggers, pg2ch's
# outbox with either payload and trigger level, pg2ch's notify).
#
# Knobs: PG2CH / BUILD_DIR / SKIP_BUILD as in bench/run.sh, VARIANTS [all], KINDS [single multi
# update], N1 [200] N2 [1200] statements (multi: N1/10, N2/10), RESULTS [<repo>/bench/results]:
# writes trigger-instructions.{md,json}.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N1=${N1:-200}
N2=${N2:-1200}
KINDS=${KINDS:-"single multi update"}
UPDATE_ROWS=$((N2 + 100))

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
VARIANTS=${VARIANTS:-$BENCH_TRIGGER_VARIANTS}
command -v valgrind >/dev/null || die "valgrind is needed (apt-get install valgrind)"
bench_pg2ch_binary
bench_start_servers

for v in $VARIANTS; do
  bench_install_variant "$v"
  # Rows for the UPDATE runs, loaded before any event can be queued for them.
  psql_q -c "ALTER TABLE public.src_$v DISABLE TRIGGER USER" \
    -c "INSERT INTO public.src_$v (name, value) SELECT 'name', g FROM generate_series(1, $UPDATE_ROWS) g" \
    -c "ALTER TABLE public.src_$v ENABLE TRIGGER USER"
done
psql_q -c "CHECKPOINT"
"$ROOT/scripts/pg-local.sh" stop "$WORK/pg" >/dev/null
DATA=$WORK/pg/data
mkdir -p "$WORK/cg"
chown postgres: "$WORK/cg"  # the backend runs as postgres and writes its profile there

statement() {  # VARIANT KIND INDEX
  case $2 in
    single) echo "INSERT INTO src_$1 (name, value) VALUES ('name', 1)" ;;
    multi) echo "INSERT INTO src_$1 (name, value) SELECT 'name', g FROM generate_series(1, 100) g" ;;
    update) echo "UPDATE src_$1 SET value = value + 1 WHERE id = $3" ;;
  esac
}

# Instructions of a stand-alone backend running COUNT statements (after 20 warm-up ones).
instructions() {  # VARIANT KIND COUNT
  local dir=$WORK/run script=$WORK/cg/run.sql out=$WORK/cg/run.callgrind i
  rm -rf "$dir"
  cp -a "$DATA" "$dir"
  {
    for ((i = 1; i <= 20 + $3; i++)); do statement "$1" "$2" "$i"; done
  } >"$script"
  chown postgres: "$script"
  runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$PG_BIN/postgres" --single -D "$dir" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    postgres <"$script" >"$WORK/run.log" 2>&1 || die "stand-alone backend failed: $(tail -n 5 "$WORK/run.log")"
  if grep -q ERROR "$WORK/run.log"; then die "$1 $2: $(grep -m 3 ERROR "$WORK/run.log")"; fi
  awk '/^summary:/ { print $2 }' "$out"
}

declare -A COST
for kind in $KINDS; do
  n1=$N1 n2=$N2 per=1
  [ "$kind" = multi ] && n1=$((N1 / 10)) n2=$((N2 / 10)) per=100
  for v in $VARIANTS; do
    a=$(instructions "$v" "$kind" "$n1")
    b=$(instructions "$v" "$kind" "$n2")
    COST[$v.$kind]=$(calc '(b - a) / (n2 - n1) / per' -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" -v per="$per")
    log "$kind $v: $(fmt0 "${COST[$v.$kind]}") instructions per $([ $per = 1 ] && echo statement || echo row)"
  done
done

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# A trigger's own cost: the statement's instructions minus those of the same statement without
# capture; compared with the seed's trigger for the same job (events table / notification).
reference_of() { case $1 in notify | seed_notify) echo seed_notify ;; *) echo seed ;; esac; }
has() { case " $VARIANTS " in *" $1 "*) return 0 ;; esac; return 1; }
{
  echo "Trigger cost in CPU instructions, commit $COMMIT, $(date -u +%Y-%m-%d), PostgreSQL 15, stand-alone backend"
  echo "under callgrind; per statement (1-row INSERT, 1-row UPDATE) or per row (100-row INSERT)."
  echo "\"trigger\" = the variant minus no capture; \"vs seed\" = that against the seed's trigger."
  echo
  header="| variant |" rule="|---|"
  for kind in $KINDS; do
    header+=" $kind: total | trigger | vs seed |"
    rule+="---|---|---|"
  done
  echo "$header"
  echo "$rule"
  for v in $VARIANTS; do
    line="| $v |"
    for kind in $KINDS; do
      total=${COST[$v.$kind]}
      own="" ratio=""
      if has none; then
        own=$(calc 't - n' -v t="$total" -v n="${COST[none.$kind]}")
        ref=$(reference_of "$v")
        if [ "$v" != none ] && has "$ref"; then
          ratio="$(fmt2 "$(calc 'o / (r - n)' -v o="$own" -v r="${COST[$ref.$kind]}" -v n="${COST[none.$kind]}")")x"
        fi
        own=$(fmt0 "$own")
      fi
      line+=" $(fmt0 "$total") | $own | $ratio |"
    done
    echo "$line"
  done
} >"$RESULTS/trigger-instructions.md"
{
  echo "{\"commit\": \"$COMMIT\", \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"instructions\": {"
  sep=""
  for v in $VARIANTS; do
    printf '%s  "%s": {' "$sep" "$v"
    s2=""
    for kind in $KINDS; do
      printf '%s"%s": %s' "$s2" "$kind" "$(fmt0 "${COST[$v.$kind]}")"
      s2=", "
    done
    printf '}'
    sep=$',\n'
  done
  echo
  echo "}}"
} >"$RESULTS/trigger-instructions.json"
cat "$RESULTS/trigger-instructions.md"
