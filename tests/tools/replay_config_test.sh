#!/usr/bin/env bash
# End-to-end test of `bouncestream replay --config FILE` and `--late`:
#  1. [alerts.thresholds] reach the alert stage: raising rate_limit's min_count removes exactly the
#     rate_limit incidents of the bundled samples and keeps every other alert byte for byte;
#  2. [decisions] reach the decider: verify after 1 attempt in 1 campaign turns never-delivered
#     recipients into `verify` hygiene events, where the defaults give none; suppressions do not change;
#  3. a config error fails with file:line and exit 2, before any output is written;
#  4. late events: records moved to the end of a log, hours behind the watermark, are counted in the
#     summary and written to late.jsonl with their position only when --late is given; the alerts are
#     the same with and without --late.
# Usage: replay_config_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" replay --quiet --out "$work/base" --summary-json "$work/base.json"

# 1. thresholds
cat >"$work/quiet-rate.toml" <<'EOF'
[alerts.thresholds.rate_limit]
min_count = 1000000
EOF
"$bin" replay --quiet --config "$work/quiet-rate.toml" --out "$work/thr" --summary-json "$work/thr.json"
n_base_rl=$(grep -c '"kind":"rate_limit"' "$work/base/alerts.jsonl" || true)
(( n_base_rl > 0 )) || fail "the samples have no rate_limit alerts to remove"
grep -q '"kind":"rate_limit"' "$work/thr/alerts.jsonl" && fail "rate_limit alerts despite min_count = 1000000"
cmp <(grep -v '"kind":"rate_limit"' "$work/base/alerts.jsonl") "$work/thr/alerts.jsonl" ||
  fail "raising one kind's threshold changed other alerts"
cmp "$work/base/suppressions.jsonl" "$work/thr/suppressions.jsonl" || fail "alert thresholds changed suppressions"

# 2. decisions
cat >"$work/verify.toml" <<'EOF'
[decisions]
verify_attempts = 1
verify_min_campaigns = 1
EOF
"$bin" replay --quiet --config "$work/verify.toml" --out "$work/dec" --summary-json "$work/dec.json"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
base = json.load(open(f"{w}/base.json"))
dec = json.load(open(f"{w}/dec.json"))
assert base["hygiene_events"] == 0, f"defaults gave {base['hygiene_events']} hygiene events"
assert dec["hygiene_events"] > 0, "verify_attempts = 1 gave no hygiene events"
rows = [json.loads(l) for l in open(f"{w}/dec/suppressions.jsonl")]
verify = [r for r in rows if r.get("action") == "verify"]
assert len(verify) == dec["hygiene_events"], (len(verify), dec["hygiene_events"])
base_sup = sorted(l for l in open(f"{w}/base/suppressions.jsonl"))
dec_sup = sorted(l for l in open(f"{w}/dec/suppressions.jsonl") if json.loads(l).get("action") != "verify")
assert base_sup == dec_sup, "the decision thresholds changed the suppressions themselves"
print(f"ok: {len(verify)} verify events with verify_attempts = 1, none by default")
PY

# 3. a bad config
printf '[decisions]\nverify_attempts = 0\n' >"$work/bad.toml"
set +e
"$bin" replay --quiet --config "$work/bad.toml" --out "$work/bad" 2>"$work/bad.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "a bad config exited $rc, not 2"
grep -q "bad.toml:2: \[decisions\] verify_attempts must be between 1 and 255" "$work/bad.err" ||
  fail "bad config message: $(cat "$work/bad.err")"
[[ ! -e "$work/bad" ]] || fail "a bad config still wrote outputs"

# 4. late events: the first 40 KumoMTA records, with new ids, appended after the last one.
zstd -dcq "$src/tools/samples/kumomta.jsonl.zst" >"$work/k.jsonl"
total=$(wc -l <"$work/k.jsonl")
head -n 40 "$work/k.jsonl" | sed 's/"id":"/"id":"late-/' >>"$work/k.jsonl"
"$bin" replay --quiet --format kumomta --out "$work/l0" --summary-json "$work/l0.json" "$work/k.jsonl"
"$bin" replay --quiet --format kumomta --late --out "$work/l1" --summary-json "$work/l1.json" "$work/k.jsonl"
[[ ! -e "$work/l0/late.jsonl" ]] || fail "late.jsonl written without --late"
cmp "$work/l0/alerts.jsonl" "$work/l1/alerts.jsonl" || fail "--late changed the alerts"
python3 - "$work" "$total" <<'PY'
import json, sys
w, total = sys.argv[1], int(sys.argv[2])
s0 = json.load(open(f"{w}/l0.json"))
s1 = json.load(open(f"{w}/l1.json"))
assert s0["late_events"] == s1["late_events"], (s0["late_events"], s1["late_events"])
late = [json.loads(l) for l in open(f"{w}/l1/late.jsonl")]
# Every appended record that feeds the alert windows is late; none of the in-order ones is.
assert 0 < len(late) <= 40, len(late)
assert len(late) == s1["late_events"], (len(late), s1["late_events"])
for r in late:
    pos = r["event"]["position"]
    line = int(pos.rsplit(":", 1)[1])
    assert line > total, f"in-order record {pos} reported late"
    assert r["late"]["watermark"] > r["event"]["event_time"], r
print(f"ok: {len(late)} late events of 40 appended records, all in late.jsonl with their position")
PY
echo "ok: replay --config (thresholds, decisions, errors) and --late"
