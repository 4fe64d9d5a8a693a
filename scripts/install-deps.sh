#!/usr/bin/env bash
# Installs every Debian package that building, testing, benchmarking and the demo need (clang and
# libclang-rt-14-dev, which holds libFuzzer and clang's sanitizer runtimes, for scripts/fuzz.sh).
# Idempotent: safe to run on a fresh Debian 12 image or on a machine that already has them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
  build-essential cmake pkg-config ninja-build
  libpq-dev postgresql-15 postgresql-client-15 postgresql-contrib
  libcurl4-openssl-dev librdkafka-dev kcat
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev rapidjson-dev
  libsystemd-dev libzstd-dev zlib1g-dev liblz4-dev libreaderwriterqueue-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev prometheus-cpp-dev
  prometheus python3-prometheus-client
  clickhouse-server clickhouse-client
  curl procps time systemd help2man dpkg-dev
  openssl  # the security tests make their own CA and certificates with the CLI
  zookeeper
  clang libclang-rt-14-dev
)

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    return 0
  fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ClickHouse 26.7's engine as a library (chDB), for the tests' modern-ClickHouse flavour
# (tests/fixtures/chdb_http_front). Debian has no modern ClickHouse; the npm registry has this.
# Kept in the user's cache between runs; npm's own cache keeps the 178 MB tarball as well.
install_chdb() {
  local version dir tmp
  version=$(cat "$ROOT/scripts/chdb-version")
  dir=${PG2CH_CHDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg2ch/chdb-$version}
  if [ -f "$dir/libchdb.so" ]; then
    echo "install-deps: chDB $version present in $dir"
    return 0
  fi
  command -v npm >/dev/null || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends npm; }
  tmp=$(mktemp -d)
  echo "install-deps: fetching @chdb/lib-linux-x64-gnu@$version from the npm registry"
  (cd "$tmp" && npm pack --silent "@chdb/lib-linux-x64-gnu@$version" >/dev/null)
  tar -xzf "$tmp"/chdb-lib-linux-x64-gnu-*.tgz -C "$tmp" package/libchdb.so
  mkdir -p "$dir"
  mv "$tmp/package/libchdb.so" "$dir/libchdb.so.part"
  mv "$dir/libchdb.so.part" "$dir/libchdb.so"  # complete or absent, never half-written
  rm -rf "$tmp"
  echo "install-deps: chDB $version in $dir"
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
install_packages
install_chdb
