#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): install what is missing, build both trees, and run the
# whole suite with ctest: unit tests under ASan + UBSan, then the end-to-end, manifest, fuzz and Kafka
# tests against the release binary. Exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
tools/install-deps.sh test
tools/build.sh asan
tools/build.sh release
echo "== build: $(( $(date +%s) - start )) s"
status=0
ctest --test-dir build-asan -L unit --output-on-failure -j "$(nproc)" || status=1
ctest --test-dir build -LE unit --output-on-failure || status=1
echo "== total: $(( $(date +%s) - start )) s"
exit $status
