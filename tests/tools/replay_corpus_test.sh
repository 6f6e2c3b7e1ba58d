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

# Every log of the corpus, in every format. Formats are detected from the first bytes except where a
# file cannot be told apart (message parts without a syslog prefix; a PowerMTA file of annotations).
for f in kumomta.jsonl postfix.log postfix_msgonly.log exim_mainlog.log pmta_acct.csv pmta_acct_bounce_custom.csv \
         pmta_acct_default23_fixture.csv pmta_acct_guide_v40.csv pmta_acct_other.txt sendgrid_events.json \
         mailgun_events.json ses_bounces.json sparkpost_events.json; do
  out="$work/${f%%.*}"
  fmt=auto
  case "$f" in
    postfix_msgonly.log) fmt=postfix ;;
    pmta_acct_other.txt) fmt=powermta ;;
  esac
  "$bin" replay --quiet --format "$fmt" --year 2020 --out "$out" --summary-json "$out.json" "$corpus/logs/$f"
  # Records counted independently: the elements of a top-level JSON array, else the non-blank lines.
  lines=$(python3 -c '
import json, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
if text.lstrip().startswith("["):
    print(len(json.loads(text)))
else:
    print(sum(1 for l in text.split("\n") if l.strip()))' "$corpus/logs/$f")
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
# pmta_acct_other.txt holds only annotations and a fragment before any header: no events by design.
if inp["event_records"] == 0 and name != "pmta_acct_other.txt":
    errors.append("no events at all")
if errors:
    print(f"FAIL {name}: " + "; ".join(errors))
    sys.exit(1)
print(f"ok {name}: {inp['records']} records = {inp['event_records']} with events + {inp['skipped']} skipped + {inp['dead_letters']} dead-lettered")
PY
done
