#!/usr/bin/env bash
# Builds everything and runs every test: unit tests, then the integration binary, which starts
# its own PostgreSQL and ClickHouse (scripts/pg-local.sh, scripts/ch-local.sh) on free ports,
# twice: against Debian's ClickHouse 18.16 server (ctest label clickhouse_18) and against
# ClickHouse 26.7's engine behind a test-only HTTP front (scripts/chdb-local.sh, label
# clickhouse_26). `scripts/test.sh -L clickhouse_26` runs one flavour.
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L unit, scripts/test.sh -R Config
# BUILD_DIR overrides the build directory (default: build/ in the source tree).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG2CH_WERROR=ON -DPG2CH_REQUIRE_CHDB=ON
cmake --build "$BUILD"
cd "$BUILD"
# --timeout bounds tests without their own TIMEOUT (the unit tests), so a hang fails in minutes.
# Twice as many ctest jobs as cores: an integration shard spends about a third of its time waiting
# (for a server, a batch delay, a Kafka group to form), and two shards on two cores left the CPU
# 34 % idle (vmstat over two minutes), so a core's worth of waiting is filled by another shard.
rc=0
ctest --output-on-failure --timeout 300 -j "$(( $(nproc) * 2 ))" "$@" || rc=$?
if [ "$rc" -ne 0 ] && [ -f Testing/Temporary/LastTest.log ]; then
  # A CI log is often kept as its head and tail only: the failures' own lines come last, short.
  echo "=== failure digest (Testing/Temporary/LastTest.log) ==="
  grep -E -A8 ': Failure$|thrown in the test body|^\[  FAILED  \] .* \([0-9]+ ms\)$|C\+\+ exception' \
    Testing/Temporary/LastTest.log | cut -c1-400 | tail -n 150
fi
exit "$rc"
