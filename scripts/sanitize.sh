#!/usr/bin/env bash
# Builds the unit tests with GCC under AddressSanitizer + UndefinedBehaviorSanitizer
# (PG2CH_SANITIZE=address) in their own build directory and runs them; any sanitizer report fails
# the run. `-O0 -g1`: the instrumented build compiles 5x faster than with -O2 -g (2x faster than
# -O1), which counts for more in CI than the tests' own run time.
#
#   scripts/sanitize.sh [ctest arguments...]      e.g. scripts/sanitize.sh -R CopyBinary
#   scripts/sanitize.sh --thread [ctest args...]  ThreadSanitizer instead (= PG2CH_SANITIZE=thread),
#                                                 in build-thread/: the unit tests and, unless
#                                                 PG2CH_SANITIZE_INTEGRATION says otherwise, the
#                                                 integration tests of the threaded parts (snapshot
#                                                 workers, metrics listener); not Kafka, see below
#   PG2CH_SANITIZE_INTEGRATION='LogicalStream*' scripts/sanitize.sh
#                                                 also the integration tests matching the filter
# BUILD_DIR overrides the build directory (default: build-<sanitizer>/ in the source tree).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--thread" ]; then
  shift
  PG2CH_SANITIZE=thread
fi
SANITIZE=${PG2CH_SANITIZE:-address}
# TSan cannot run librdkafka here: tests that start a Kafka client crash in the TSan runtime on a
# librdkafka thread (SEGV, not a report a suppression could silence). Debian's librdkafka starts
# its threads with C11 thrd_create, which GCC 12's TSan runtime does not intercept. Those tests
# are left out.
EXCLUDE=()
if [ "$SANITIZE" = thread ]; then
  EXCLUDE=(-E 'KafkaChangeSinkTest\.|BulkLoadCapability\.')
  if [ -z "${PG2CH_SANITIZE_INTEGRATION+set}" ]; then
    PG2CH_SANITIZE_INTEGRATION='SnapshotResume.*:LogicalRestart.KilledMidSnapshotResumesIt:MetricsEndpoint.*'
  fi
fi
BUILD=${BUILD_DIR:-$ROOT/build-$SANITIZE}
JOBS=${PG2CH_JOBS:-$(nproc)}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# Only the integration test files that define the filter's suites are compiled (a suite named
# Suite, or Prefix/Suite for a parameterised one, is defined where `Suite` appears as a word); a
# pattern whose suite name has a wildcard in it builds them all.
IT_FILES=""
if [ -n "${PG2CH_SANITIZE_INTEGRATION:-}" ]; then
  IFS=: read -r -a patterns <<<"${PG2CH_SANITIZE_INTEGRATION%%-*}"
  for pattern in "${patterns[@]}"; do
    suite=${pattern%%.*}
    suite=${suite##*/}
    suite=${suite%\*}
    if [ -z "$suite" ] || [[ "$suite" == *[*?]* ]]; then IT_FILES=""; break; fi
    files=$(cd "$ROOT/tests/integration" && grep -rlwE --include='*.cpp' --exclude-dir=support "$suite" . | sed 's|^\./||' | sort)
    [ -n "$files" ] || { echo "sanitize.sh: no integration test file defines the suite $suite" >&2; exit 2; }
    IT_FILES="${IT_FILES:+$IT_FILES;}${files//$'\n'/;}"
  done
  IT_FILES=$(tr ';' '\n' <<<"$IT_FILES" | sort -u | paste -sd ';')
fi
echo "sanitize.sh: integration test files: ${IT_FILES:-all}"

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" \
  -DPG2CH_WERROR=ON -DPG2CH_SANITIZE="$SANITIZE" -DPG2CH_BUILD_BENCH=OFF -DPG2CH_IT_ONLY="$IT_FILES" "${LAUNCHER[@]}"
TARGETS=(pg2ch_unit_tests)
[ -n "${PG2CH_SANITIZE_INTEGRATION:-}" ] && TARGETS+=(pg2ch_integration_tests)
cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"

# halt_on_error: the first report fails the test that caused it. detect_leaks stays on (LSan).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/scripts/ubsan.supp}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/tsan.supp}
cd "$BUILD"
ctest --output-on-failure --timeout 600 -j "$JOBS" -L unit "${EXCLUDE[@]}" "$@"
if [ -n "${PG2CH_SANITIZE_INTEGRATION:-}" ]; then
  ./tests/pg2ch_integration_tests --gtest_filter="$PG2CH_SANITIZE_INTEGRATION"
fi
