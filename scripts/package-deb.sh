#!/usr/bin/env bash
# Builds the Debian package: a Release build installed under /usr, packed by CPack.
#
#   scripts/package-deb.sh            -> build-deb/pg2ch_<version>_<arch>.deb
#
# Install it with `apt install ./build-deb/pg2ch_*.deb` (pulls libpq5, librdkafka1, ... from
# Debian), then see README "As a systemd service". BUILD_DIR overrides build-deb/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-deb}

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DPG2CH_BUILD_TESTS=OFF -DPG2CH_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD"
(cd "$BUILD" && cpack -G DEB >/dev/null)
ls "$BUILD"/pg2ch_*.deb
