#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in their own build directory
# and runs each for SECONDS (default 30) over its committed seed corpus. Exits non-zero on the
# first finding: a crash, a sanitizer report, an exception other than pg2ch::Error, a timeout
# (a single input taking longer than 10 s) or running out of memory. The input that caused it
# is saved as fuzz/findings/<target>/crash-... (or timeout-..., oom-...).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 300 pgoutput_fuzz
# BUILD_DIR overrides the build directory (default: build-fuzz/ in the source tree). New inputs
# found while running go to a scratch directory, never into the committed corpus (fuzz/README.md
# says how to add one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${1:-30}
shift || true
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${PG2CH_JOBS:-$(nproc)}
CLANG=${CLANG:-$(command -v clang++ || command -v clang++-14 || true)}
[ -n "$CLANG" ] || { echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# -O1 -gline-tables-only: libFuzzer's usual flags (fast to build, readable stacks). Not -Werror:
# warnings are GCC's job (scripts/test.sh builds with -Werror); clang's extra ones are not gated.
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DPG2CH_BUILD_FUZZ=ON -DPG2CH_BUILD_TESTS=OFF \
  -DPG2CH_BUILD_BENCH=OFF "${LAUNCHER[@]}"
cmake --build "$BUILD" -j "$JOBS" --target pg2ch_fuzz

TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(pgoutput_fuzz copy_binary_fuzz config_fuzz dotenv_fuzz kafka_event_fuzz value_codec_fuzz)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/scripts/ubsan.supp}
status=0
for target in "${TARGETS[@]}"; do
  corpus="$ROOT/fuzz/corpus/$target"
  scratch="$BUILD/corpus/$target"     # the committed corpus plus what this run found
  findings="$ROOT/fuzz/findings/$target"
  mkdir -p "$scratch" "$findings"
  echo "fuzz.sh: $target for ${SECONDS_PER_TARGET}s"
  if ! "$BUILD/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" "$scratch" "$corpus" \
      >"$BUILD/$target.log" 2>&1; then
    echo "fuzz.sh: FINDING in $target (input in fuzz/findings/$target/); the end of its log:" >&2
    tail -n 60 "$BUILD/$target.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$BUILD/$target.log" | tr '\n' ' '
    echo
  fi
  rmdir "$findings" 2>/dev/null || true
done
rmdir "$ROOT/fuzz/findings" 2>/dev/null || true
exit $status
