# Shell helpers shared by bench/run_all.sh and the peer scripts (sourced, not run): timing one command
# (wall clock, CPU, peak RSS) and median/min/max of a list of numbers.

# bs_measure FILE CMD...: runs CMD (stdout and stderr to FILE.log) and appends one line to FILE:
# "wall_seconds cpu_seconds max_rss_kib". Wall time is taken around the command with nanosecond clocks
# (GNU time's %e has 10 ms resolution); CPU (user+sys) and peak RSS come from GNU time. Returns CMD's
# exit status.
bs_measure() {
  local file=$1
  shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$file.time" "$@" >"$file.log" 2>&1 || rc=$?
  t1=$(date +%s%N)
  if [ $rc -ne 0 ]; then
    echo "command failed ($rc): $*" >&2
    tail -5 "$file.log" >&2
    return $rc
  fi
  # GNU time may prefix a "Command exited with non-zero status" line; the figures are on the last line.
  tail -1 "$file.time" | awk -v ns=$((t1 - t0)) '{ printf "%.6f %.3f %d\n", ns / 1e9, $1 + $2, $3 }' >>"$file"
}

# bs_column FILE N: the N-th column (1-based) of FILE, one value per line.
bs_column() { awk -v c="$2" '{ print $c }' "$1"; }

# bs_stats: reads numbers (one per line) on stdin, prints "median min max" (median of an even count: the
# mean of the middle two).
bs_stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}

# bs_fmt FORMAT "median min max": "median (min–max)" with each number printed by printf FORMAT, or as an
# integer with thousands separators when FORMAT is ",".
bs_fmt() {
  local fmt=$1 m lo hi
  read -r m lo hi <<<"$2"
  if [ "$fmt" = , ]; then
    echo "$(bs_commas "$m") ($(bs_commas "$lo")–$(bs_commas "$hi"))"
  else
    printf "$fmt ($fmt–$fmt)" "$m" "$lo" "$hi"
  fi
}

# bs_commas N: 1234567 → 1,234,567 (integers).
bs_commas() { printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# bs_require_tool CMD PACKAGE: fails with an install hint when CMD is missing.
bs_require_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "$1 is not installed: apt-get install $2 (or tools/install-deps.sh test)" >&2
  return 3
}
