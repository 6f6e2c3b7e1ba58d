#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and replay the bundled sample logs (no Kafka,
# no configuration). Writes out/alerts.jsonl, out/suppressions.jsonl, out/dlq.jsonl and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh build
tools/build.sh release-min
exec build/bouncestream replay --out out "$@"
