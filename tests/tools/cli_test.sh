#!/usr/bin/env bash
# The command-line contract: --help on every subcommand, --version, exit codes 0 ok / 1 runtime error /
# 2 usage error, and error messages that name what is wrong. Usage: cli_test.sh BOUNCESTREAM SOURCE_DIR
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() {  # expect CODE PATTERN -- command...
  local want=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: '$*' exited $rc, want $want: $out" | head -3
    fail=1
  elif [ -n "$pattern" ] && ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: '$*' output lacks '$pattern': $out" | head -3
    fail=1
  fi
}

expect 0 "bouncestream [0-9]" -- "$bin" --version
expect 0 "subcommands:" -- "$bin" --help
expect 2 "usage:" -- "$bin"
expect 2 "unknown subcommand 'frobnicate'" -- "$bin" frobnicate
for sub in replay classify rules gen run tail config; do
  expect 0 "usage: bouncestream $sub" -- "$bin" "$sub" --help
done
expect 2 "unknown flag --bogus" -- "$bin" replay --bogus
expect 2 "--threads" -- "$bin" replay --threads zero
expect 2 "unknown --format 'xml'" -- "$bin" replay --format xml
expect 1 "/nonexistent/file.log" -- "$bin" replay --out "$work/o" /nonexistent/file.log
printf 'hello world\nthis is not a mail log\n' > "$work/mystery.txt"
expect 1 "cannot tell the log format" -- "$bin" replay --out "$work/o" "$work/mystery.txt"
# The same file with its format named: every line is dead-lettered, nothing is lost, exit 0.
expect 0 "" -- "$bin" replay --quiet --format postfix --out "$work/o2" "$work/mystery.txt"
[ "$(wc -l < "$work/o2/dlq.jsonl")" = 2 ] || { echo "FAIL: 2 dead letters expected"; fail=1; }
expect 0 "" -- "$bin" gen --records 50 --out "$work/g.jsonl"
[ "$(wc -l < "$work/g.jsonl")" = 50 ] || { echo "FAIL: gen --records 50"; fail=1; }
expect 2 "--records" -- "$bin" gen --records -5
# gen is deterministic: same options, same bytes.
"$bin" gen --records 500 --seed 7 --out "$work/a.jsonl" && "$bin" gen --records 500 --seed 7 --out "$work/b.jsonl"
cmp -s "$work/a.jsonl" "$work/b.jsonl" || { echo "FAIL: gen is not deterministic"; fail=1; }
"$bin" gen --records 500 --seed 8 --out "$work/c.jsonl"
cmp -s "$work/a.jsonl" "$work/c.jsonl" && { echo "FAIL: the seed changes nothing"; fail=1; }
[ $fail = 0 ] && echo "ok: command-line contract"
exit $fail
