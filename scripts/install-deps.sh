#!/usr/bin/env bash
# Installs every Debian package that building, testing, benchmarking and the demo need.
# Idempotent: safe to run on a fresh Debian 12 image or on a machine that already has them.
set -euo pipefail

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
  zookeeper
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
