#!/usr/bin/env bash
# jq (Debian) vs `bouncestream replay` on the same generated KumoMTA JSON log. jq extracts the fields
# bouncestream's KumoMTA parser reads (type, time, recipient, sender, queue, egress source and address, MX,
# reply code, enhanced code, reply text) from every delivery record as TSV, skipping lines that are not
# JSON; bouncestream does its whole job (parse, classify, decide, alert windows, outputs). Checks that both
# see the same number of delivery records, then prints wall and CPU time, median (min–max) of N runs, and
# the time ratio jq / bouncestream; then one "FIGURE k=v ..." line for bench/run_all.sh.
#   bench/peers/jq_compare.sh [--runs N] [--threads T] BOUNCESTREAM [KUMOMTA_LOG]
# Without KUMOMTA_LOG a 100 k-record log is generated into a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
runs=5
threads=1
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] || { echo "usage: $0 [--runs N] [--threads T] BOUNCESTREAM [KUMOMTA_LOG]" >&2; exit 2; }
bin=$(realpath "${args[0]}")
bs_require_tool jq jq
work=$(mktemp -d /tmp/bs-jq-XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ ${#args[@]} -ge 2 ]; then
  log=$(realpath "${args[1]}")
else
  log=$work/kumomta.jsonl
  "$bin" gen --format kumomta --records 100000 --seed 42 --out "$log"
fi

# -R + fromjson?: a line that is not JSON is skipped, as a user's pipeline over a real log must do.
filter='fromjson? | select(type == "object" and (.type == "Delivery" or .type == "Bounce" or
  .type == "TransientFailure" or .type == "Expiration")) |
  [.type, .timestamp, .recipient, .sender, .queue, .egress_source, .source_address.address,
   .peer_address.name, .response.code,
   (.response.enhanced_code | if type == "object" then "\(.class).\(.subject).\(.detail)" else "" end),
   .response.content] | @tsv'
jq_cmd=(jq -r -R "$filter" "$log")

# --- same records? -----------------------------------------------------------------------------------
"${jq_cmd[@]}" >"$work/jq.tsv"
jq_records=$(wc -l <"$work/jq.tsv")
rm -f "$work/jq.tsv"
"$bin" replay --quiet --threads "$threads" --out "$work/out" --summary-json "$work/summary.json" "$log"
our_records=$(jq '[.inputs[].event_records] | add' "$work/summary.json")
same=yes
[ "$jq_records" -eq "$our_records" ] || same=no

# --- timing ------------------------------------------------------------------------------------------
for _ in $(seq "$runs"); do
  bs_measure "$work/jq.t" sh -c '"$@" >/dev/null' jq "${jq_cmd[@]}"
  bs_measure "$work/replay.t" "$bin" replay --quiet --threads "$threads" --out "$work/out" "$log"
done
jw=$(bs_column "$work/jq.t" 1 | bs_stats)
jc=$(bs_column "$work/jq.t" 2 | bs_stats)
rw=$(bs_column "$work/replay.t" 1 | bs_stats)
rc=$(bs_column "$work/replay.t" 2 | bs_stats)
wall_ratio=$(paste "$work/jq.t" "$work/replay.t" | awk '{ print $1 / $4 }' | bs_stats)
cpu_ratio=$(paste "$work/jq.t" "$work/replay.t" | awk '{ print ($5 > 0 ? $2 / $5 : 0) }' | bs_stats)
mb=$(du -m --apparent-size "$log" | cut -f1)
ver=$(jq --version)

echo "### $ver vs \`bouncestream replay --threads $threads\` on a KumoMTA JSON log"
echo
echo "$(bs_commas "$(wc -l <"$log")") lines, $mb MB ($(basename "$log")). jq extracts the fields of every delivery record"
echo "as TSV (bench/peers/jq_compare.sh has the filter); bouncestream does its whole job. Delivery records:"
echo "jq $(bs_commas "$jq_records"), bouncestream $(bs_commas "$our_records") — same: **$same**."
echo
echo "| seconds, median (min–max) of $runs runs | wall | CPU (user+sys) |"
echo "|---|---|---|"
echo "| jq | $(bs_fmt %.3f "$jw") | $(bs_fmt %.3f "$jc") |"
echo "| bouncestream replay | $(bs_fmt %.3f "$rw") | $(bs_fmt %.3f "$rc") |"
echo "| ratio jq / bouncestream (per run pair) | **$(bs_fmt %.1f× "$wall_ratio")** | $(bs_fmt %.1f× "$cpu_ratio") |"
echo
echo "FIGURE jq_wall_ratio=$(echo "$wall_ratio" | cut -d' ' -f1) jq_cpu_ratio=$(echo "$cpu_ratio" | cut -d' ' -f1) same_records=$same"
