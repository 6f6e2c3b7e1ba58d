#!/usr/bin/env bash
# Installs the Debian 12 packages bouncestream needs, only those missing (fast and quiet the second time).
#   tools/install-deps.sh build   compiler, CMake, Ninja and the libraries
#   tools/install-deps.sh test    also what the tests use: zstd, python3-yaml, kcat, Java 17 and Maven (the
#                                 Kafka broker), clang-14 with libFuzzer (fuzzers), the benchmark peers
#                                 (Sisimai, mtail, jq) and Hyperscan
set -euo pipefail
mode=${1:-build}
pkgs=(g++ cmake ninja-build pkg-config librdkafka-dev libsimdjson-dev libabsl-dev libre2-dev libbenchmark-dev
      libgtest-dev libtomlplusplus-dev libzstd-dev zlib1g-dev libssl-dev)
if [ "$mode" = test ]; then
  pkgs+=(zstd python3 python3-yaml kcat openjdk-17-jre-headless maven clang-14 libclang-rt-14-dev util-linux
         libsisimai-perl mtail jq time)
  # Hyperscan, for classify_benchmark's scan comparison only (Intel's on amd64, the Vectorscan fork elsewhere).
  if [ "$(dpkg --print-architecture)" = amd64 ]; then pkgs+=(libhyperscan-dev); else pkgs+=(libvectorscan-dev); fi
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
