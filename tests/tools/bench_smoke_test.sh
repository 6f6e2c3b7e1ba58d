#!/usr/bin/env bash
# Smoke test of the performance harness, so it cannot rot: bench/run_all.sh --quick (2 k records, 1 run,
# each benchmark binary capped at 10 s) runs the replay measurements, the Google Benchmark binaries of the
# build and the peer scripts (Sisimai, mtail, jq), and every figure they are meant to produce must be
# there as a number. Installs the peer tools when missing (the test runs as root in CI).
#   Usage: bench_smoke_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
build=$(dirname "$bin")
work=$(mktemp -d /tmp/bs-bench-smoke-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() {  # check DESCRIPTION EXTENDED_REGEX: the results must have a line matching
  if grep -Eq -- "$2" "$work/R.md"; then
    echo "ok: $1"
  else
    echo "FAIL: $1 (no line matching: $2)"
    fail=1
  fi
}

missing=()
for p in libsisimai-perl mtail jq time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "FAIL: missing ${missing[*]} and not root (run tools/install-deps.sh test)"; exit 1; }
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

start=$SECONDS
bash "$src/bench/run_all.sh" --quick --cache "$work/cache" --out "$work/R.md" "$build" 2>"$work/run_all.err" ||
  { echo "FAIL: run_all.sh --quick exited $?"; tail -20 "$work/run_all.err"; exit 1; }
echo "run_all.sh --quick took $((SECONDS - start)) s"

n='[0-9][0-9,]*(\.[0-9]+)?'  # a number as the harness prints it
check "machine and load recorded" "^- machine: [0-9]+ CPUs \(.+\)"
check "load average recorded" "load average .* at start: $n $n $n"
for fmt in kumomta postfix; do
  for t in 1 2; do
    # | format | records | MB | threads | wall s | records/s | MB/s | records per CPU-s | peak RSS MiB |
    check "replay $fmt --threads $t figures" \
      "^\| $fmt \| $n \| $n \| $t \| $n \($n–$n\) \| $n \($n–$n\) \| $n \($n–$n\) \| $n \($n–$n\) \| $n \($n–$n\) \|$"
  done
  check "2-thread speed-up for $fmt" "^- $fmt $n: $n× \($n×–$n×\)$"
done
check "Sisimai accuracy on sisimai.tsv, both tools" "^\| sisimai.tsv, via the mapping \| $n/$n = $n % \| $n/$n = $n % \| $n/$n = $n % \|$"
check "Sisimai accuracy on providers.jsonl, both tools" "^\| providers.jsonl kinds, via the mapping \| $n/$n = $n % \| $n/$n = $n % \| $n/$n = $n % \|$"
check "Sisimai and bouncestream speed" "^\| speed, replies per CPU-second, .* \| $n \($n–$n\) \| — \| $n \($n–$n\) \|$"
check "mtail counters printed" "^\| (rate_limited|dmarc_failure) \| [a-z]+ \| [0-9]+ \| [0-9]+ \|$"
check "mtail counters equal ours" "^Counters equal: \*\*yes\*\*"
check "mtail time ratio" "^\| ratio mtail / bouncestream .*\| \*\*$n× \($n×–$n×\)\*\* \| $n× \($n×–$n×\) \|$"
check "jq saw the same records" "same: \*\*yes\*\*"
check "jq time ratio" "^\| ratio jq / bouncestream .*\| \*\*$n× \($n×–$n×\)\*\* \| $n× \($n×–$n×\) \|$"
check "targets table" "^\| classification ≥ 3 M replies/s/core"
check "mtail target filled in" "^\| ≥ 25× mtail .* \| $n× \($n× CPU\) \| (\*\*met\*\*|not met) \|$"
check "peers summary line" "^Peers in one line: Sisimai->match $n replies/s at $n %"

# Every benchmark binary of the build is either in the table (with a number) or listed as skipped.
for b in "$build"/bench/*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  name=$(basename "$b")
  check "benchmark $name reported or skipped" "^(\| $name \| [^|]+ \| [^|]+ \| $n \($n–$n\), 1 runs \||- skipped: $name )"
done

[ $fail -eq 0 ] || { echo "--- results ---"; cat "$work/R.md"; echo "--- stderr ---"; tail -20 "$work/run_all.err"; exit 1; }
echo "PASS: bench smoke test"
