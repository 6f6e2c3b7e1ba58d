#!/usr/bin/env bash
# Sisimai (Debian libsisimai-perl, `Sisimai->match`) vs `bouncestream classify` on the same replies of the
# shared corpus: accuracy against the corpus labels and replies/s, side by side (sisimai_compare.pl does
# the work; this wrapper checks prerequisites). Prints a Markdown section and one "FIGURE k=v ..." line.
#   bench/peers/sisimai_compare.sh [--runs N] [--quick] BOUNCESTREAM [SOURCE_DIR]
# The corpus is ../shared/corpus beside the source tree, or $BS_CORPUS_DIR; it is read in place.
set -euo pipefail
runs=5
quick=()
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] || { echo "usage: $0 [--runs N] [--quick] BOUNCESTREAM [SOURCE_DIR]" >&2; exit 2; }
bin=$(realpath "${args[0]}")
src=$(realpath "${args[1]:-$(dirname "$0")/../..}")
corpus=${BS_CORPUS_DIR:-$src/../shared/corpus}
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }
[ -r "$corpus/replies/sisimai.tsv" ] || { echo "no corpus at $corpus (set BS_CORPUS_DIR)" >&2; exit 2; }
perl -MSisimai -e 1 2>/dev/null ||
  { echo "Sisimai is not installed: apt-get install libsisimai-perl (or tools/install-deps.sh test)" >&2; exit 3; }
exec perl "$(dirname "$0")/sisimai_compare.pl" --bin "$bin" --corpus "$corpus" --source "$src" --runs "$runs" "${quick[@]}"
