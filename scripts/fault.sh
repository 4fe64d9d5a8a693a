#!/usr/bin/env bash
# The full fault-injection run (README "Fault injection"): every route of tests/fault/ with
# PG2CH_FAULT_KILLS SIGKILLs per pg2ch process (default 20) and every outage, then the regression
# tests, against ClickHouse 18.16; prints the README table from the figures each route reports.
#
#   scripts/fault.sh [kills]            e.g. scripts/fault.sh 20
# PG2CH_FAULT_SEED repeats a run (each route prints the seed it used); BUILD_DIR as scripts/test.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
KILLS=${1:-20}

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG2CH_WERROR=ON
cmake --build "$BUILD" --target pg2ch_fault_tests pg2ch
REPORT=$(mktemp "${TMPDIR:-/tmp}/pg2ch-fault-XXXXXX")
trap 'rm -f "$REPORT"' EXIT
rc=0
# A route under the full kill count runs far longer than the integration tests' hang limit.
PG2CH_TEST_HANG_S=${PG2CH_TEST_HANG_S:-7200} PG2CH_FAULT_KILLS=$KILLS PG2CH_FAULT_REPORT=$REPORT "$BUILD/tests/pg2ch_fault_tests" || rc=$?

# route=logical seed=1 kills=20 outages=7 rows=140711 transactions=4387 result=equal
echo
echo "Fault injection, $KILLS kills per process, commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo ' (modified)'):"
echo
echo "| route | kills survived | outages survived | rows checked | transactions | seed | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
sed -E 's/^route=(\S+) seed=(\S+) kills=(\S+) outages=(\S+) rows=(\S+) transactions=(\S+) result=(\S+)$/| \1 | \3 | \4 | \5 | \6 | \2 | \7 |/' "$REPORT"
exit "$rc"
