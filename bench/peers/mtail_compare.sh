#!/usr/bin/env bash
# mtail (Debian) vs `bouncestream replay` on the same generated Postfix log. mtail runs the equivalent
# program postfix_replies.mtail (rate-limit and DMARC replies counted per provider) in its one-shot mode
# (--one_shot --logs FILE: read the file to EOF, print the counters, exit); bouncestream replays the file
# (parse, classify, decide, alert windows, outputs written). Prints both sets of counters (they should be
# equal: same replies, same providers), the wall and CPU time of each, median (min–max) of N runs, and
# the time ratio mtail / bouncestream; then one "FIGURE k=v ..." line for bench/run_all.sh.
#   bench/peers/mtail_compare.sh [--runs N] [--threads T] BOUNCESTREAM [POSTFIX_LOG]
# Without POSTFIX_LOG a 100 k-record log is generated into a temporary directory. The log must contain no
# invalid UTF-8: mtail 3.0.0~rc50 silently stops reading at the first such line (so bench/run_all.sh
# generates the peers' logs with --no-malformed).
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
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] || { echo "usage: $0 [--runs N] [--threads T] BOUNCESTREAM [POSTFIX_LOG]" >&2; exit 2; }
bin=$(realpath "${args[0]}")
bs_require_tool mtail mtail
bs_require_tool jq jq
work=$(mktemp -d /tmp/bs-mtail-XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ ${#args[@]} -ge 2 ]; then
  log=$(realpath "${args[1]}")
else
  log=$work/postfix.log
  "$bin" gen --format postfix --records 100000 --seed 42 --no-malformed --queue-removed --out "$log"
fi
mkdir "$work/progs"
cp "$here/postfix_replies.mtail" "$work/progs/"

# One-shot run, counters as JSON on stdout. --port 0: no fixed HTTP port (another mtail may be running).
mtail_cmd=(mtail --one_shot --one_shot_format=json --progs "$work/progs" --logs "$log" --logtostderr --port 0)

# --- counters ----------------------------------------------------------------------------------------
"${mtail_cmd[@]}" >"$work/mtail.json" 2>"$work/mtail.err" || { tail -5 "$work/mtail.err" >&2; exit 1; }
jq -r 'to_entries[] | .key as $m | .value[] | (.LabelValues // [])[] | [$m, .Labels[0], .Value.Value] | @tsv' \
  "$work/mtail.json" | sed 's/^bs_//' | sort >"$work/mtail.counts"
"$bin" replay --quiet --classified --threads "$threads" --out "$work/classified" "$log"
grep -E '"category":"(rate_limited|dmarc_failure)"' "$work/classified/classified.jsonl" |
  jq -r '[.classification.category, .classification.provider] | @tsv' | sort | uniq -c |
  awk '{ printf "%s\t%s\t%s\n", $2, $3, $1 }' | sort >"$work/ours.counts"
rm -rf "$work/classified"
# Join on (counter, provider); a missing side counts 0.
awk -F'\t' 'NR == FNR { m[$1 "\t" $2] = $3; k[$1 "\t" $2] = 1; next } { o[$1 "\t" $2] = $3; k[$1 "\t" $2] = 1 }
  END { for (x in k) printf "%s\t%d\t%d\n", x, m[x], o[x] }' "$work/mtail.counts" "$work/ours.counts" |
  sort >"$work/joined"
[ -s "$work/joined" ] || { echo "no rate-limit or DMARC replies counted by either tool" >&2; exit 1; }
equal=yes
awk -F'\t' '$3 != $4 { bad = 1 } END { exit bad }' "$work/joined" || equal=no

# --- timing ------------------------------------------------------------------------------------------
for _ in $(seq "$runs"); do
  bs_measure "$work/mtail.t" "${mtail_cmd[@]}"
  bs_measure "$work/replay.t" "$bin" replay --quiet --threads "$threads" --out "$work/out" "$log"
done
mw=$(bs_column "$work/mtail.t" 1 | bs_stats)
mc=$(bs_column "$work/mtail.t" 2 | bs_stats)
rw=$(bs_column "$work/replay.t" 1 | bs_stats)
rc=$(bs_column "$work/replay.t" 2 | bs_stats)
# Ratio per run pair (both ran back to back, under the same load), then the median of the ratios.
wall_ratio=$(paste "$work/mtail.t" "$work/replay.t" | awk '{ print $1 / $4 }' | bs_stats)
cpu_ratio=$(paste "$work/mtail.t" "$work/replay.t" | awk '{ print ($5 > 0 ? $2 / $5 : 0) }' | bs_stats)
lines=$(wc -l <"$log")
mb=$(du -m --apparent-size "$log" | cut -f1)
ver=$(mtail --version 2>&1 | head -1 | awk '{ print $3 }')

echo "### mtail $ver (one-shot) vs \`bouncestream replay --threads $threads\` on a Postfix log"
echo
echo "$(bs_commas "$lines") lines, $mb MB ($(basename "$log")). mtail runs bench/peers/postfix_replies.mtail (rate-limit"
echo "and DMARC replies per provider, from the relay host); bouncestream does its whole job (parse, classify,"
echo "decide, alert windows, outputs). Counters:"
echo
echo "| counter | provider | mtail | bouncestream |"
echo "|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %d | %d |\n", $1, $2, $3, $4 }' "$work/joined"
echo
echo "Counters equal: **$equal**."
echo
echo "| seconds, median (min–max) of $runs runs | wall | CPU (user+sys) |"
echo "|---|---|---|"
echo "| mtail | $(bs_fmt %.3f "$mw") | $(bs_fmt %.3f "$mc") |"
echo "| bouncestream replay | $(bs_fmt %.3f "$rw") | $(bs_fmt %.3f "$rc") |"
echo "| ratio mtail / bouncestream (per run pair) | **$(bs_fmt %.1f× "$wall_ratio")** | $(bs_fmt %.1f× "$cpu_ratio") |"
echo
echo "FIGURE mtail_wall_ratio=$(echo "$wall_ratio" | cut -d' ' -f1) mtail_cpu_ratio=$(echo "$cpu_ratio" | cut -d' ' -f1) counters_equal=$equal"
