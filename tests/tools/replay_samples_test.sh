#!/usr/bin/env bash
# End-to-end test of `bouncestream replay` on the bundled samples: the injected incidents are found as
# exactly those alerts, suppressions are exactly the generator's invalid addresses plus the null-MX
# domain (never an address we were refused for), hygiene events never follow greylisting that succeeded
# or refusals of us, outputs are byte-identical for --threads 1 and 2, and every record is accounted for.
# (Hygiene events on multi-campaign input: tests/pipeline/decide_replay_test.cc.)
# Usage: replay_samples_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" replay --quiet --out "$work/t1" --threads 1 --summary-json "$work/t1.json"
"$bin" replay --quiet --out "$work/t2" --threads 2 --summary-json "$work/t2.json"
for f in alerts suppressions dlq; do
  cmp "$work/t1/$f.jsonl" "$work/t2/$f.jsonl" || { echo "FAIL: $f.jsonl differs between --threads 1 and 2"; exit 1; }
done
# Independent record counts: non-blank lines of the decompressed samples.
for f in kumomta.jsonl postfix.log; do
  zstd -dc "$src/tools/samples/$f.zst" | grep -c -v '^[[:space:]]*$' > "$work/$f.lines"
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
fail = []
def check(cond, msg):
    if not cond:
        fail.append(msg)

summary = json.load(open(f"{work}/t1.json"))
for inp, name in zip(summary["inputs"], ["kumomta.jsonl", "postfix.log"]):
    lines = int(open(f"{work}/{name}.lines").read())
    check(inp["records"] == lines, f"{name}: {inp['records']} records read, file has {lines} non-blank lines")
    total = inp["event_records"] + inp["skipped"] + inp["dead_letters"]
    check(total == inp["records"], f"{name}: events+skipped+dead = {total} != records {inp['records']}")

# Dead letters: the generator's three malformed records per file, with their reasons.
dlq = [json.loads(l) for l in open(f"{work}/t1/dlq.jsonl")]
reasons = sorted((d["position"].split(":")[0], d["error"]) for d in dlq)
check(reasons == sorted([
    ("samples/kumomta.jsonl.zst", "truncated_record"), ("samples/kumomta.jsonl.zst", "invalid_utf8"),
    ("samples/kumomta.jsonl.zst", "missing_field"), ("samples/postfix.log.zst", "missing_field"),
    ("samples/postfix.log.zst", "unrecognized_line"), ("samples/postfix.log.zst", "bad_timestamp")]),
    f"dead letters: {reasons}")
check(sum(i["dead_letters"] for i in summary["inputs"]) == len(dlq), "dlq.jsonl lines != summary dead letters")

# The suppressions output carries suppressions ("type":"suppression") and hygiene events ("type":"hygiene":
# reengage, verify, unsuppress), each with a deterministic id that no other record shares.
records = [json.loads(l) for l in open(f"{work}/t1/suppressions.jsonl")]
ids = [r["id"] for r in records]
check(len(ids) == len(set(ids)), "two records share an id")
check(all(r["type"] in ("suppression", "hygiene") for r in records), "unknown record type")
sups = [r for r in records if r["type"] == "suppression"]
hygiene = [r for r in records if r["type"] == "hygiene"]

# Suppressions: exactly once per key; only the generator's invalid addresses (number % 97 == 13) and the
# null-MX domain; never an address at the Spamhaus-listed domain or one that only saw refusals of us.
keys = [s["key"] for s in sups]
check(len(keys) == len(set(keys)), "a key was suppressed twice")
check("@oldbrand.example" in keys, "no domain suppression for the null-MX domain")
check(not any(k.endswith("@oldbrand.example") and not k.startswith("@") for k in keys), "address suppressions at the null-MX domain")
for s in sups:
    k = s["key"]
    check(s["schema"] == 1 and s["type"] == "suppression" and s["evidence"] and s["rule"], f"incomplete record {k}")
    if k.startswith("@"):
        check(k == "@oldbrand.example" and s["action"] == "suppress_domain", f"unexpected domain suppression {k}")
        continue
    local = k.split("@")[0]
    n = int(local.split(".")[1]) if "." in local else -1
    check(n % 97 == 13, f"suppressed a valid address: {k} ({s['rule']}: {s['reply']['text'][:80]})")
    check(s["scope"] == "address" and s["action"] == "suppress_address", f"bad scope/action for {k}")
    check(not k.endswith("@bigcorp.example") or n % 97 == 13, f"suppressed because of a blocklisting: {k}")
check(len([k for k in keys if not k.startswith("@")]) >= 150, f"only {len(keys)} suppressions")

# Hygiene events: complete, once per key and action, and never where the history says nothing is wrong:
# greylisted corp.example addresses are accepted 7 minutes later (4xx then success: no action), addresses
# refused because of us (rate limit, DMARC, Spamhaus) are not the recipients' fault, and the invalid
# addresses and the null-MX domain are never delivered to, so nothing is unsuppressed.
def number(k):
    local = k.split("@")[0]
    return int(local.split(".")[1]) if "." in local else -1
seen = set()
for h in hygiene:
    k, a = h["key"], h["action"]
    check(a in ("reengage", "verify", "unsuppress"), f"hygiene action {a} for {k}")
    check(h["schema"] == 1 and h["evidence"] and h["rule"] and h.get("decision"), f"incomplete hygiene record {k}")
    check((k, a) not in seen, f"hygiene {a} twice for {k}")
    seen.add((k, a))
    check(not k.endswith("@corp.example"), f"hygiene {a} for greylisted-then-delivered {k}")
    check(h["category"] not in ("rate_limited", "dmarc_failure", "ip_blocklisted"), f"hygiene {a} from a refusal of us: {k}")
    if a == "unsuppress":
        check(k in keys, f"unsuppress of {k}, which was never suppressed")
        check(k != "@oldbrand.example" and number(k) % 97 != 13, f"unsuppressed an invalid key {k}")
    else:
        check(len(h["evidence"]) >= 2, f"{a} for {k} without the records that led to it")

# Alerts: exactly the injected incidents, each firing once and resolving once, nothing else.
alerts = [json.loads(l) for l in open(f"{work}/t1/alerts.jsonl")]
def key(a):
    k = a["key"]
    return (a["kind"], k["provider"], k.get("sending_ip") or k.get("mta") or k.get("sender_domain"))
expected = {
    ("rate_limit", "gmail", "203.0.113.7"), ("rate_limit", "gmail", "mta1"),
    ("dmarc_failure", "microsoft", "alerts.example.org"),
    ("blocklist", "proofpoint", "198.51.100.21"), ("blocklist", "proofpoint", "mta3"),
}
firing = [key(a) for a in alerts if a["state"] == "firing"]
check(sorted(firing) == sorted(expected), f"firing alerts {sorted(firing)} != {sorted(expected)}")
by_id = {}
for a in alerts:
    by_id.setdefault(a["id"], []).append(a["state"])
    check(a["action"] in ("retry_slower", "fix_authentication", "request_delisting"), f"action {a['action']}")
for i, states in by_id.items():
    check(states[0] == "firing" and states[-1] == "resolved" and states.count("firing") == 1,
          f"incident {i} lifecycle {states}")
fire = {key(a): a for a in alerts if a["state"] == "firing"}
rl = fire.get(("rate_limit", "gmail", "203.0.113.7"))
if rl:
    check(rl["rate"] >= 0.3 and rl["count"] >= 10 and rl["samples"], f"rate-limit alert too weak: {rl}")
    check(any("rate limited" in s for s in rl["samples"]), "rate-limit samples lack the reply")
dm = fire.get(("dmarc_failure", "microsoft", "alerts.example.org"))
if dm:
    check(dm["rules"] and all(r.startswith("microsoft.") or r.startswith("generic.") for r in dm["rules"]), f"{dm['rules']}")

if fail:
    print("FAIL:\n  " + "\n  ".join(fail[:30]))
    sys.exit(1)
print(f"ok: {len(sups)} suppressions, {len(hygiene)} hygiene events, {len(alerts)} alert records, {len(dlq)} dead letters")
PY
