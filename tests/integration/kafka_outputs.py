#!/usr/bin/env python3
"""Helpers for the Kafka integration tests (tests/integration/kafka_*_test.sh).

  key FORMAT < log > keyed          prefix each record with its Kafka key and \\x1f (kcat -K $'\\x1f'):
                                    kumomta by recipient address, postfix by MTA host (the queue-id join
                                    needs one host's lines in one partition, in order)
  sentinel FORMAT TIME_MS INDEX     one delivered record far after the samples (closes every window)
  metric URL NAME [LABELS]          print a value from /metrics (0 when absent or unreachable)
  compare KIND KAFKA.jsonl REF.jsonl [--allow-dups]
                                    compare outputs of `run` (read from a topic) with `replay`'s: same
                                    distinct records, ignoring what must differ (evidence positions);
                                    a repeated id must repeat identical content (never a conflicting one)
  exactly-once KAFKA.jsonl REF.jsonl  outputs equal the reference with no duplicate at all
"""
import json
import sys
import urllib.request


def key_records(fmt):
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\n")
        if not line:
            continue
        key = b"-"
        if fmt == "kumomta":
            try:
                key = str(json.loads(line).get("recipient", "-")).lower().encode() or b"-"
            except Exception:  # a broken record (the samples carry a few for the DLQ)
                key = b"-"
        else:
            parts = line.split(b" ")
            key = parts[1] if len(parts) > 1 and parts[1] else b"-"
        out.write(key + b"\x1f" + line + b"\n")


def sentinel(fmt, time_ms, index):
    secs = time_ms // 1000
    if fmt == "kumomta":
        rec = {"type": "Delivery", "id": "sentinel%d" % index, "sender": "sentinel@example.invalid",
               "recipient": "sentinel-%d@example.invalid" % index, "queue": "sentinel@example.invalid",
               "site": "sentinel", "size": 1, "response": {"code": 250, "enhanced_code": None,
                                                           "content": "OK", "command": "."},
               "peer_address": {"name": "mx.example.invalid", "addr": "192.0.2.1"}, "timestamp": secs,
               "created": secs, "num_attempts": 1, "bounce_classification": "Uncategorized",
               "egress_pool": "pool-s", "egress_source": "ip-s", "feedback_report": None, "meta": {},
               "headers": {}, "delivery_protocol": "ESMTP", "reception_protocol": "ESMTP"}
        print(json.dumps(rec, separators=(",", ":")))
    else:
        import datetime
        t = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000+00:00")
        print("%s mta-sentinel%d postfix/smtp[1]: SENTINEL%02d: to=<sentinel-%d@example.invalid>, "
              "relay=mx.example.invalid[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
              "status=sent (250 2.0.0 OK)" % (t, index, index, index))


def metric(url, name, labels=""):
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
    except Exception:
        print(0)
        return
    want = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            print(line.split()[-1])
            return
    print(0)


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def normal(kind, rec):
    """The part of a record that must agree between `run` and `replay`."""
    rec = dict(rec)
    if kind == "suppressions":
        rec.pop("evidence", None)  # positions: topic/partition@offset vs file:line
    elif kind == "dlq":
        rec.pop("position", None)
    return json.dumps(rec, sort_keys=True)


# What makes two suppression records the same decision. Copies of one decision made in two partitions
# (an address whose records reach two partitions: state is per partition) share these fields and the id,
# while the deciding record (its time, campaign, reply text) may differ.
DECISION_FIELDS = ("id", "type", "key", "scope", "action", "category", "provider", "rule", "decision")


def decision(rec):
    return json.dumps([rec.get(f) for f in DECISION_FIELDS])


def ident(kind, rec):
    if kind == "dlq":
        return normal(kind, rec)
    if kind == "alerts":
        # One incident id carries several records (firing, updated, resolved), one per window.
        return json.dumps([rec.get("id"), rec.get("state"), rec.get("window")], sort_keys=True)
    return rec.get("id")


def compare(kind, kafka_path, ref_path, allow_dups, exact, without_kind=None):
    got, ref = load(kafka_path), load(ref_path)
    if without_kind:
        # Alerts judged per process (silence) are left out on both sides, and said so.
        n_got, n_ref = len(got), len(ref)
        got = [r for r in got if r.get("kind") != without_kind]
        ref = [r for r in ref if r.get("kind") != without_kind]
        print("%s: left out %d %s records from Kafka, %d from replay" % (
            kind, n_got - len(got), without_kind, n_ref - len(ref)))
    problems = []
    by_id = {}
    dups = 0
    copies = {}
    for r in got:
        i, n = ident(kind, r), normal(kind, r)
        copies.setdefault(i, set()).add(n)
        if i in by_id:
            dups += 1
            same = by_id[i] == n or (kind == "suppressions" and allow_dups and not exact and
                                     decision(json.loads(by_id[i])) == decision(r))
            if not same:
                problems.append("id %s repeated with a different decision:\n  %s\n  %s" % (i, by_id[i], n))
        else:
            by_id[i] = n
    ref_by_id = {}
    for r in ref:
        ref_by_id.setdefault(ident(kind, r), normal(kind, r))
    # Of several copies of one decision, the one made from the same record as replay's must match it.
    for i, n in ref_by_id.items():
        if n in copies.get(i, ()):
            by_id[i] = n
    if dups and (exact or not allow_dups):
        problems.append("%d duplicate %s records" % (dups, kind))
    missing = sorted(set(ref_by_id) - set(by_id), key=str)
    extra = sorted(set(by_id) - set(ref_by_id), key=str)
    for i in missing[:5]:
        problems.append("missing (in replay, not from Kafka): %s" % ref_by_id[i])
    for i in extra[:5]:
        problems.append("extra (from Kafka, not in replay): %s" % by_id[i])
    for i in sorted(set(by_id) & set(ref_by_id), key=str):
        if by_id[i] != ref_by_id[i]:
            problems.append("differs for %s:\n  kafka  %s\n  replay %s" % (i, by_id[i], ref_by_id[i]))
            if len(problems) > 10:
                break
    summary = "%s: %d from Kafka (%d distinct, %d duplicates), %d from replay; %d missing, %d extra" % (
        kind, len(got), len(by_id), dups, len(ref), len(missing), len(extra))
    print(summary)
    if problems:
        for p in problems[:12]:
            print("  " + p)
        sys.exit(1)


def main():
    cmd = sys.argv[1]
    if cmd == "key":
        key_records(sys.argv[2])
    elif cmd == "sentinel":
        sentinel(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "metric":
        metric(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    elif cmd == "compare":
        without = sys.argv[sys.argv.index("--without-kind") + 1] if "--without-kind" in sys.argv else None
        compare(sys.argv[2], sys.argv[3], sys.argv[4], "--allow-dups" in sys.argv, False, without)
    elif cmd == "exactly-once":
        compare(sys.argv[2], sys.argv[3], sys.argv[4], False, True)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
