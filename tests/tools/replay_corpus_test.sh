#!/usr/bin/env bash
# Replays the shared corpus's real logs: every record is parsed, skipped with a reason, or dead-lettered
# (the three counts add up to the file's non-blank lines, counted here independently), and dlq.jsonl
# holds exactly the dead-lettered records. Usage: replay_corpus_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
corpus=${BS_CORPUS_DIR:-$src/../shared/corpus}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$corpus/logs" ] || { echo "FAIL: corpus not found at $corpus"; exit 1; }

for f in kumomta.jsonl postfix.log postfix_msgonly.log; do
  out="$work/${f%%.*}"
  # postfix_msgonly.log has no syslog prefix: its format cannot be detected, so it is named.
  fmt=auto
  [ "$f" = postfix_msgonly.log ] && fmt=postfix
  "$bin" replay --quiet --format "$fmt" --year 2020 --out "$out" --summary-json "$out.json" "$corpus/logs/$f"
  lines=$(grep -c -v '^[[:space:]]*$' "$corpus/logs/$f")
  python3 - "$out.json" "$out/dlq.jsonl" "$lines" "$f" <<'PY'
import json, sys
summary, dlq_path, lines, name = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), sys.argv[4]
inp = summary["inputs"][0]
dlq = [json.loads(l) for l in open(dlq_path)]
errors = []
if inp["records"] != lines:
    errors.append(f"{inp['records']} records read, file has {lines} non-blank lines")
if inp["event_records"] + inp["skipped"] + inp["dead_letters"] != inp["records"]:
    errors.append(f"events {inp['event_records']} + skipped {inp['skipped']} + dead {inp['dead_letters']} != {inp['records']}")
if len(dlq) != inp["dead_letters"]:
    errors.append(f"dlq.jsonl has {len(dlq)} records, summary says {inp['dead_letters']}")
for d in dlq:
    if not d.get("error") or not d.get("position") or not (d.get("record") or d.get("record_base64")):
        errors.append(f"incomplete dead letter {d}")
if inp["event_records"] == 0:
    errors.append("no events at all")
if errors:
    print(f"FAIL {name}: " + "; ".join(errors))
    sys.exit(1)
print(f"ok {name}: {inp['records']} records = {inp['event_records']} with events + {inp['skipped']} skipped + {inp['dead_letters']} dead-lettered")
PY
done
