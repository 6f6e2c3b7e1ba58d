#!/usr/bin/env bash
# Configures (once) and builds one build tree. Incremental: fast the second time.
#   tools/build.sh release   build/       RelWithDebInfo: the binary, e2e and Kafka tests, benchmarks
#   tools/build.sh asan      build-asan/  ASan + UBSan: the unit tests
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=${BS_JOBS:-$(nproc)}
case "$kind" in
  release)
    dir=build
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBS_BUILD_TESTS=ON -DBS_BUILD_UNIT_TESTS=OFF -DBS_BUILD_BENCH=ON) ;;
  release-min)
    dir=build
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)
    dir=build-asan
    args=(-DCMAKE_BUILD_TYPE=Debug -DBS_SANITIZE=ON -DBS_BUILD_TESTS=ON -DBS_BUILD_UNIT_TESTS=ON -DBS_BUILD_BENCH=OFF
          -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g") ;;
  *) echo "usage: tools/build.sh release|asan" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
else
  cmake "$dir" "${args[@]}" >/dev/null
fi
if [ "$kind" = release-min ]; then
  ninja -C "$dir" -j "$jobs" bouncestream
else
  ninja -C "$dir" -j "$jobs"
fi
