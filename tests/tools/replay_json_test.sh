#!/usr/bin/env bash
# `--format json` with the field map from a config's [input.json]: a nested JSON log (written here) is
# replayed; a user-unknown bounce becomes a suppression, a DMARC refusal of us and a blocklisting are
# classified for alerts (and never suppress), unlisted outcome values are counted skips, a record without
# its recipient is a dead letter, and a bad map fails before reading anything with file:line.
# Usage: replay_json_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/app.jsonl" <<'EOF'
{"ts":"2026-11-02T08:00:00Z","result":"HARD","rcpt":{"address":"gone@example.com"},"from":"news@ours.example","smtp":{"reply":"550-5.1.1 The email account that you tried to reach does not exist. - gsmtp","host":"gmail-smtp-in.l.google.com"},"egress":{"ip":"192.0.2.10"},"meta":{"campaign":"c1"}}
{"ts":"2026-11-02T08:00:01Z","result":"hard","rcpt":{"address":"someone@example.com"},"from":"news@ours.example","smtp":{"code":550,"status":"5.7.26","reply":"Unauthenticated email from ours.example is not accepted due to domain's DMARC policy. - gsmtp","host":"gmail-smtp-in.l.google.com"},"egress":{"ip":"192.0.2.10"},"meta":{"campaign":"c1"}}
{"ts":1793606402,"result":"hard","rcpt":{"address":"other@example.net"},"from":"news@ours.example","smtp":{"reply":"554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org"},"egress":{"ip":"192.0.2.10"},"meta":{"campaign":"c1"}}
{"ts":"2026-11-02T08:00:03Z","result":"ok","rcpt":{"address":"fine@example.com"},"smtp":{"reply":"250 2.0.0 OK"}}
{"ts":"2026-11-02T08:00:04Z","result":"opened","rcpt":{"address":"fine@example.com"}}
{"ts":"2026-11-02T08:00:05Z","result":"soft","smtp":{"reply":"421 4.7.0 try later"}}
EOF

cat >"$work/json.toml" <<'EOF'
[input]
format = "json"

[input.json]
recipient = "rcpt.address"
outcome = "result"
time = "ts"
sender = "from"
text = "smtp.reply"
code = "smtp.code"
enhanced = "smtp.status"
mx_host = "smtp.host"
sending_ip = "egress.ip"
campaign = "meta.campaign"

[input.json_outcomes]
ok = "delivered"
soft = "deferred"
hard = "bounced"
EOF

"$bin" replay --quiet --config "$work/json.toml" --classified --out "$work/out" --summary-json "$work/summary.json" \
  "$work/app.jsonl"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def lines(name):
    return [json.loads(l) for l in open(f"{work}/out/{name}") if l.strip()]
summary = json.load(open(f"{work}/summary.json"))["inputs"][0]
classified, suppressions, dlq = lines("classified.jsonl"), lines("suppressions.jsonl"), lines("dlq.jsonl")
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
check(summary["format"] == "json", f"format {summary['format']}")
check(summary["records"] == 6, f"records {summary['records']}")
by_rcpt = {c["recipient"]: c for c in classified}
check(len(classified) == 4, f"{len(classified)} classified events")
gone = by_rcpt.get("gone@example.com", {})
check(gone.get("outcome") == "bounced" and gone.get("classification", {}).get("category") == "user_unknown",
      f"user unknown: {gone}")
check(gone.get("campaign") == "c1" and gone.get("sending_ip") == "192.0.2.10" and
      gone.get("mx") == "gmail-smtp-in.l.google.com", f"mapped fields: {gone}")
check(gone.get("classification", {}).get("provider") == "gmail", f"provider from mx: {gone}")
dmarc = by_rcpt.get("someone@example.com", {}).get("classification", {})
check(dmarc.get("category") == "dmarc_failure" and dmarc.get("scope") == "sender_domain", f"dmarc: {dmarc}")
check(by_rcpt.get("someone@example.com", {}).get("reply", {}).get("enhanced") == "5.7.26", "enhanced from smtp.status")
block = by_rcpt.get("other@example.net", {}).get("classification", {})
check(block.get("blocklist") == "spamhaus" and block.get("scope") == "sending_ip", f"blocklist: {block}")
check(by_rcpt.get("fine@example.com", {}).get("outcome") == "delivered", "ok → delivered")
keys = sorted(s["key"] for s in suppressions)
check(keys == ["gone@example.com"], f"suppressions {keys} (only the unknown user; never a refusal of us)")
check(len(dlq) == 1 and dlq[0]["error"] == "missing_field" and dlq[0].get("detail") == "recipient"
      and dlq[0]["position"].endswith(":6"), f"dlq {dlq}")
check(summary["skipped"] == 1 and summary["events"] == 4 and summary["dead_letters"] == 1,
      f"in = events + skipped + dead: {summary}")
alerts = lines("alerts.jsonl")
check(any(a["kind"] == "blocklist" and a["key"].get("sending_ip") == "192.0.2.10" for a in alerts),
      f"blocklist alert for the mapped sending ip: {[a['kind'] for a in alerts]}")
if errors:
    print("FAIL replay_json:\n  " + "\n  ".join(errors))
    sys.exit(1)
PY

# A bad field map stops the replay before it reads anything, naming the file and line.
sed -e 's/^time = "ts"/time = "ts..x"/' -e 's/^sender = "from"/sendr = "from"/' "$work/json.toml" >"$work/bad.toml"
set +e
"$bin" replay --quiet --config "$work/bad.toml" --out "$work/bad" "$work/app.jsonl" 2>"$work/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL replay_json: bad map exit $rc, want 2"; cat "$work/bad.err"; exit 1; }
grep -q "bad.toml:7: \[input.json\] json mapping: field 'time' has a malformed path 'ts..x'" "$work/bad.err" ||
  { echo "FAIL replay_json: no file:line for the malformed path"; cat "$work/bad.err"; exit 1; }
grep -q "bad.toml:8: \[input.json\] unknown key 'sendr' (did you mean 'sender'?)" "$work/bad.err" ||
  { echo "FAIL replay_json: no file:line for the unknown key"; cat "$work/bad.err"; exit 1; }
[ ! -e "$work/bad/suppressions.jsonl" ] || { echo "FAIL replay_json: outputs written despite a bad config"; exit 1; }
echo "ok: json field map from the config: 1 suppression, dmarc classified, blocklist alert, 1 skip, 1 dead letter"
