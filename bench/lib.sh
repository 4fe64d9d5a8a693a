# Shared by the bench scripts (source it after setting ROOT; BUILD_DIR, RESULTS, PG_BIN, CH_DB,
# SKIP_BUILD and KEEP_WORK get the defaults below unless the script or the caller set them):
# logging and arithmetic helpers, the Release build, and throwaway PostgreSQL (data on tmpfs) +
# ClickHouse servers that are stopped and removed on any exit.
# shellcheck shell=bash

: "${BUILD_DIR:=$ROOT/build-bench}"
: "${SKIP_BUILD:=0}"
: "${KEEP_WORK:=0}"
: "${RESULTS:=$ROOT/bench/results}"
: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${CH_DB:=db}"
# The ClickHouse to start: scripts/ch-local.sh (Debian's 18.16 server) or scripts/chdb-local.sh
# (the ClickHouse 26.7 engine behind the test front; needs the test build's front binary).
: "${CH_LOCAL:=ch-local.sh}"

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
now() { date +%s.%N; }
# awk arithmetic: calc 'a / b' with variables passed as name=value.
calc() {
  local expr=$1
  shift
  awk "$@" "BEGIN { printf \"%.10g\", $expr }"
}
fmt0() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
fmt3() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
json_field() { sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" "$1"; }

# Builds pg2ch and the latency probe (Release) unless SKIP_BUILD=1; sets PG2CH and PROBE.
bench_build() {
  if [ "$SKIP_BUILD" != 1 ]; then
    log "building Release in $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" --target pg2ch pg2ch_latency_probe >/dev/null
  fi
  PG2CH=$BUILD_DIR/pg2ch
  PROBE=$BUILD_DIR/bench/pg2ch_latency_probe
  [ -x "$PG2CH" ] && [ -x "$PROBE" ] || die "binaries missing in $BUILD_DIR (build failed?)"
  mkdir -p "$RESULTS"
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
    pkill -TERM -P "$BG_PID" 2>/dev/null || true  # a wrapper (/usr/bin/time) does not pass signals on
    kill -TERM "$BG_PID" 2>/dev/null || true
    wait "$BG_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/pg-local.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  "$ROOT/scripts/$CH_LOCAL" stop "$WORK/ch" >/dev/null 2>&1 || true
  if [ "$KEEP_WORK" = 1 ]; then
    log "servers stopped; kept $WORK"
  else
    rm -rf "$WORK"
  fi
  [ $rc -eq 0 ] || log "exit status $rc"
  exit $rc
}

# Makes WORK (on tmpfs: the VM's disk makes every commit slow, which would measure the disk, not
# pg2ch), starts both servers there and exports the seed's PG_* / CH_* variables for them.
# BG_PID, when set, is a background pg2ch that cleanup stops first.
bench_start_servers() {
  WORK=$(mktemp -d /dev/shm/pg2ch-bench.XXXXXX)
  chmod 755 "$WORK"
  mkfifo "$WORK/sampler.fifo"
  BG_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "starting PostgreSQL and ClickHouse in $WORK"
  "$ROOT/scripts/pg-local.sh" start "$WORK/pg" >/dev/null
  "$ROOT/scripts/$CH_LOCAL" start "$WORK/ch" >/dev/null
  eval "$("$ROOT/scripts/pg-local.sh" env "$WORK/pg")"
  eval "$("$ROOT/scripts/$CH_LOCAL" env "$WORK/ch")"
  export CH_DATABASE=$CH_DB
  export PG_HOST PG_PORT PG_DB PG_USER PG_PASSWORD PGHOST PGPORT PGDATABASE PGUSER CH_HOST CH_PORT CH_USER CH_PASSWORD
  CH_URL="http://$CH_HOST:$CH_PORT/"
}

psql_q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
chq() { curl -sS --fail-with-body "$CH_URL" --data-binary "$1"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# Sets PG2CH: the given binary, or a Release build in BUILD_DIR (unless SKIP_BUILD=1).
bench_pg2ch_binary() {
  if [ -z "${PG2CH:-}" ]; then
    if [ "$SKIP_BUILD" != 1 ]; then
      log "building Release pg2ch in $BUILD_DIR"
      cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$BUILD_DIR" --target pg2ch >/dev/null
    fi
    PG2CH=$BUILD_DIR/pg2ch
  fi
  [ -x "$PG2CH" ] || die "no pg2ch binary at $PG2CH"
  mkdir -p "$RESULTS"
}

# The seed's two trigger templates on TABLE, as the seed describes them (route 4 and route 3).
bench_seed_events_trigger() {  # TABLE
  psql_q <<SQL
CREATE TABLE events_table (id bigint PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION seed_capture() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO events_table (id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
  RETURN NEW;
END \$\$;
CREATE TRIGGER seed_capture AFTER INSERT OR UPDATE ON $1 FOR EACH ROW EXECUTE FUNCTION seed_capture();
SQL
}
bench_seed_notify_trigger() {  # TABLE
  psql_q <<SQL
CREATE FUNCTION seed_notify() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM pg_notify('new_data', NEW.id::text);
  RETURN NEW;
END \$\$;
CREATE TRIGGER seed_notify AFTER INSERT OR UPDATE ON $1 FOR EACH ROW EXECUTE FUNCTION seed_notify();
SQL
}

# Median of whitespace-separated numbers on stdin.
median() {
  tr ' ' '\n' | grep -v '^$' | sort -g |
    awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# The trigger-cost benchmarks' variants, each on its own table public.src_<variant> of one shape:
#   none            no trigger
#   seed            the seed's per-row plpgsql trigger: INSERT INTO events_table (id) ON CONFLICT
#   outbox_key      pg2ch outbox as `pg2ch setup` installs it: payload = "key", triggers = "row"
#   outbox_key_stmt the same with triggers = "statement"
#   outbox_row      payload = "row", triggers = "row"
#   seed_notify     the seed's per-row trigger: PERFORM pg_notify('new_data', NEW.id::text)
#   notify          pg2ch's notify trigger as `pg2ch setup` installs it (default coalesce_ms)
BENCH_TRIGGER_VARIANTS="none seed outbox_key outbox_key_stmt outbox_row seed_notify notify"
bench_install_variant() {  # VARIANT
  local v=$1
  psql_q -c "CREATE TABLE public.src_$v (id bigserial PRIMARY KEY, name text NOT NULL, value int NOT NULL,
             updated_at timestamptz NOT NULL DEFAULT now())"
  case $v in
    none) ;;
    seed) bench_seed_events_trigger "src_$v" ;;
    seed_notify) bench_seed_notify_trigger "src_$v" ;;
    outbox_key) bench_variant_setup "$v" $'mode = "outbox"\n[outbox]\npayload = "key"\ntable = "events_key"' ;;
    outbox_key_stmt)
      bench_variant_setup "$v" $'mode = "outbox"\n[outbox]\npayload = "key"\ntriggers = "statement"\ntable = "events_stmt"' ;;
    outbox_row) bench_variant_setup "$v" $'mode = "outbox"\n[outbox]\npayload = "row"\ntable = "events_row"' ;;
    notify) bench_variant_setup "$v" $'mode = "notify"\n[poll]\nwatermark = "id"\n[notify]\nchannel = "cost_notify"' ;;
    *) die "unknown variant $v" ;;
  esac
}
# The queue tables a variant's writes fill.
bench_variant_queues() {  # VARIANT
  case $1 in
    seed) echo public.events_table ;;
    outbox_key) echo pg2ch.events_key pg2ch.events_key_truncates ;;
    outbox_key_stmt) echo pg2ch.events_stmt pg2ch.events_stmt_truncates ;;
    outbox_row) echo pg2ch.events_row pg2ch.events_row_truncates ;;
  esac
}
# `pg2ch setup` of pipeline cost_VARIANT capturing public.src_VARIANT, with the mode's own settings.
bench_variant_setup() {  # VARIANT MODE_TOML
  cat >"$WORK/$1.toml" <<EOT
name = "cost_$1"
$2
[state]
path = "$WORK/$1.state"
[[tables]]
name = "public.src_$1"
EOT
  "$PG2CH" --config "$WORK/$1.toml" setup >>"$WORK/setup.log" 2>&1 ||
    die "pg2ch setup ($1) failed: $(tail -n 5 "$WORK/setup.log")"
}

# A logical pipeline NAME of its own (slot, publication, state, ClickHouse database NAME) over
# [[tables]] PATTERN, in $WORK/NAME.toml; EXTRA (TOML sections) is appended.
bench_logical_config() {  # NAME PATTERN [EXTRA]
  cat >"$WORK/$1.toml" <<EOT
name = "$1"
mode = "logical"
[logical]
slot = "$1"
publication = "$1"
[state]
path = "$WORK/$1.state"
[log]
summary_interval_s = 0
[[tables]]
name = "$2"
${3:-}
EOT
  chq "CREATE DATABASE IF NOT EXISTS $1" >/dev/null
}

# `pg2ch run --until-caught-up` of pipeline NAME (bench_logical_config) under GNU time, its log in
# $WORK/LOG.log; ARGS go before `run` (e.g. --set ...). Sets RUN_S (wall) and RUN_RSS_MB.
bench_timed_catch_up() {  # NAME LOG [ARGS...]
  local name=$1 logname=$2 t0
  shift 2
  t0=$(now)
  CH_DATABASE=$name /usr/bin/time -v -o "$WORK/$logname.time" "$PG2CH" --config "$WORK/$name.toml" "$@" \
    run --until-caught-up >"$WORK/$logname.log" 2>&1 || die "$logname failed: $(tail -n 5 "$WORK/$logname.log")"
  RUN_S=$(calc 'b - a' -v a="$t0" -v b="$(now)")
  RUN_RSS_MB=$(($(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+).*/\1/p' "$WORK/$logname.time") / 1024))
}
