#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang-14 (AddressSanitizer + UndefinedBehaviorSanitizer)
# against the parser sources, then runs each one for a while. Not part of the CMake build, which uses g++:
# this script compiles parsers/*.cc and pipeline/base/*.cc itself, once, into OUT/libbs_fuzz.a.
#
#   tests/fuzz/run_fuzzers.sh                        # short run: 100 s shared by all targets (the test command)
#   tests/fuzz/run_fuzzers.sh --seconds 3600 exim    # one target for an hour (see README.md)
#
# Options:
#   --seconds N    seconds per target (default: 100 divided among the selected targets, at least 5)
#   --out DIR      build and corpus directory (default: <repo>/build-fuzz)
#   --seeds DIR    seed files (default: ../shared/corpus/logs beside the repository, or $BS_CORPUS_DIR/logs)
#   --jobs N       parallel compiles (default: nproc)
#   --build-only   build the targets, run nothing
# Targets: any of the *_fuzz.cc names without the suffix (default: all).
# Exit status 0 when every target ran its time without a finding; reproducers go to OUT/crashes/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
out="$src/build-fuzz"
seeds="${BS_CORPUS_DIR:-$src/../shared/corpus}/logs"
jobs="$(nproc)"
seconds=""
build_only=0
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "run_fuzzers.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in "$here"/*_fuzz.cc; do targets+=("$(basename "$f" _fuzz.cc)"); done
fi
for t in "${targets[@]}"; do
  [[ -f "$here/${t}_fuzz.cc" ]] || { echo "run_fuzzers.sh: no target $t" >&2; exit 2; }
done
if [[ -z "$seconds" ]]; then
  seconds=$(( 100 / ${#targets[@]} ))
  (( seconds < 5 )) && seconds=5
fi

cxx="${CXX_FUZZ:-clang++-14}"
command -v "$cxx" >/dev/null || { echo "run_fuzzers.sh: $cxx not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
       -I"$src" -DNDEBUG)
libs=($(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format) -lsimdjson -lpthread)

mkdir -p "$out/obj" "$out/bin" "$out/crashes"

# The library: rebuilt when any parser or base source is newer than it.
lib="$out/libbs_fuzz.a"
lib_srcs=("$src"/parsers/*.cc "$src"/pipeline/base/*.cc)
stale=0
[[ -f "$lib" ]] || stale=1
if (( ! stale )); then
  for f in "${lib_srcs[@]}" "$src"/parsers/*.h "$src"/pipeline/base/*.h; do
    [[ "$f" -nt "$lib" ]] && { stale=1; break; }
  done
fi
if (( stale )); then
  echo "run_fuzzers.sh: compiling ${#lib_srcs[@]} sources with $cxx"
  rm -f "$out"/obj/*.o
  printf '%s\n' "${lib_srcs[@]}" | xargs -P "$jobs" -I{} sh -c \
    'o="$0/obj/$(echo "$1" | tr / _).o"; '"$cxx"' '"${flags[*]}"' -fsanitize=fuzzer-no-link -c "$1" -o "$o"' \
    "$out" {}
  rm -f "$lib"
  ar rcs "$lib" "$out"/obj/*.o
fi

for t in "${targets[@]}"; do
  bin="$out/bin/${t}_fuzz"
  if [[ ! -x "$bin" || "$here/${t}_fuzz.cc" -nt "$bin" || "$here/fuzz_common.h" -nt "$bin" || "$lib" -nt "$bin" ]]; then
    echo "run_fuzzers.sh: linking ${t}_fuzz"
    "$cxx" "${flags[@]}" -fsanitize=fuzzer "$here/${t}_fuzz.cc" "$lib" "${libs[@]}" -o "$bin"
  fi
done
(( build_only )) && exit 0

# Seeds: the corpus files of each target's format (whole files; the targets split them).
seed_glob() {
  case "$1" in
    powermta) echo "pmta_*" ;;
    exim) echo "exim_*.log" ;;
    postfix) echo "postfix*.log" ;;
    kumomta) echo "kumomta.jsonl" ;;
    sendgrid) echo "sendgrid_*.json" ;;
    mailgun) echo "mailgun_*.json" ;;
    ses) echo "ses_*.json" ;;
    sparkpost) echo "sparkpost_*.json" ;;
    json_mapping) echo "*.json*" ;;
    *) echo "*" ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
failed=()
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  seed_dir="$out/seeds/$t"
  mkdir -p "$corpus" "$seed_dir"
  if [[ -d "$seeds" ]]; then
    for f in "$seeds"/$(seed_glob "$t"); do
      [[ -f "$f" && "$f" != *.source ]] || continue
      cp -f "$f" "$seed_dir/"
      # Small seeds run hundreds of times faster than whole files: one per JSON array element, and
      # chunks of 8 lines of text logs.
      if command -v python3 >/dev/null; then
        python3 - "$f" "$seed_dir" <<'PY'
import json, os, sys
path, out = sys.argv[1], sys.argv[2]
base = os.path.basename(path)
data = open(path, 'rb').read()
try:
    items = json.loads(data)
except ValueError:
    items = None
if isinstance(items, list):
    for i, item in enumerate(items):
        with open(os.path.join(out, f"{base}.{i}"), 'w') as fh:
            json.dump(item, fh)
else:
    lines = data.split(b'\n')
    for i in range(0, len(lines), 8):
        with open(os.path.join(out, f"{base}.{i}"), 'wb') as fh:
            fh.write(b'\n'.join(lines[i:i + 8]))
PY
      fi
    done
  fi
  echo "run_fuzzers.sh: ${t}_fuzz for ${seconds}s"
  if ! "$out/bin/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/crashes/${t}-" -print_final_stats=1 "$corpus" "$seed_dir" \
      > "$out/${t}.log" 2>&1; then
    failed+=("$t")
    tail -n 40 "$out/${t}.log" >&2
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+ *DONE" "$out/${t}.log" | tail -n 2 || true
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_fuzzers.sh: findings in: ${failed[*]} (reproducers in $out/crashes/)" >&2
  exit 1
fi
echo "run_fuzzers.sh: ${#targets[@]} targets, ${seconds}s each, no findings"
