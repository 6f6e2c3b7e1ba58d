#!/usr/bin/env bash
# End-to-end checks of two operations features on the bundled samples:
#  - [privacy] hash_addresses (replay --config): no raw address left in any output line, suppression keys
#    are the HMAC that `bouncestream hash-address` (and openssl) compute for the addresses of a plain run,
#    same number of records; the key comes from BOUNCESTREAM_PRIVACY_HASH_KEY;
#  - silence alerts: the samples raise none; with one MTA host's lines removed for an hour the host fires
#    once and resolves, nothing else does.
# Usage: ops_outputs_test.sh BOUNCESTREAM SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

"$bin" replay --quiet --out "$work/plain" --classified
printf '[privacy]\nhash_addresses = true\n' > "$work/privacy.toml"
BOUNCESTREAM_PRIVACY_HASH_KEY=s3cret "$bin" replay --quiet --out "$work/hashed" --classified --config "$work/privacy.toml"
# Without the key the config is refused.
if "$bin" replay --quiet --out "$work/nokey" --config "$work/privacy.toml" 2> "$work/nokey.err"; then
  echo "FAIL: hash_addresses without a key was accepted"; fail=1
elif ! grep -q "hash_key" "$work/nokey.err"; then
  echo "FAIL: no hash_key message: $(cat "$work/nokey.err")"; fail=1
fi

for f in suppressions alerts dlq classified; do
  a=$(wc -l < "$work/plain/$f.jsonl"); b=$(wc -l < "$work/hashed/$f.jsonl")
  [ "$a" = "$b" ] || { echo "FAIL: $f.jsonl has $b lines hashed, $a plain"; fail=1; }
  # An address: local@domain.tld. "@domain" keys (no local part) are allowed.
  if grep -E -o '[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+' "$work/hashed/$f.jsonl" > "$work/$f.leak"; then
    echo "FAIL: raw addresses in hashed $f.jsonl: $(sort -u "$work/$f.leak" | head -3 | tr '\n' ' ')"; fail=1
  fi
done
[ "$(wc -l < "$work/plain/classified.jsonl")" -gt 1000 ] || { echo "FAIL: too few classified events"; fail=1; }

# The first three address suppressions of the plain run, hashed by the CLI and by openssl, are keys of the
# hashed run.
mapfile -t addrs < <(python3 -c '
import json, sys
keys = [json.loads(l)["key"] for l in open(sys.argv[1]) if json.loads(l)["type"] == "suppression"]
print("\n".join([k for k in keys if not k.startswith("@")][:3]))' "$work/plain/suppressions.jsonl")
[ "${#addrs[@]}" = 3 ] || { echo "FAIL: no address suppressions in the plain run"; fail=1; }
BOUNCESTREAM_PRIVACY_HASH_KEY=s3cret "$bin" hash-address "${addrs[@]}" > "$work/hashes"
while read -r addr hash; do
  grep -q "\"key\":\"$hash\"" "$work/hashed/suppressions.jsonl" || { echo "FAIL: $addr: $hash not a key"; fail=1; }
  if command -v openssl > /dev/null; then
    o=$(printf '%s' "$addr" | tr 'A-Z' 'a-z' | openssl dgst -sha256 -hmac s3cret | awk '{print $NF}')
    [ "$o" = "$hash" ] || { echo "FAIL: openssl gives $o for $addr, hash-address $hash"; fail=1; }
  fi
done < "$work/hashes"
[ "$(wc -l < "$work/hashes")" = 3 ] || { echo "FAIL: hash-address printed $(wc -l < "$work/hashes") lines"; fail=1; }
"$bin" hash-address --key other "${addrs[0]}" | grep -q -v -F "$(head -1 "$work/hashes" | cut -d' ' -f2)" ||
  { echo "FAIL: another key gives the same hash"; fail=1; }
env -u BOUNCESTREAM_PRIVACY_HASH_KEY "$bin" hash-address a@b.example > /dev/null 2>&1 && { echo "FAIL: no key accepted"; fail=1; }
# Alerts are the same incidents (their keys are IPs and domains, not addresses).
cmp <(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$work/plain/alerts.jsonl") \
    <(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$work/hashed/alerts.jsonl") ||
  { echo "FAIL: alert ids differ with hashing"; fail=1; }

# Silence: none on the samples; mta2's lines removed from 10:00 to 11:00 → one incident for mta2.
n=$(grep -c '"kind":"silence"' "$work/plain/alerts.jsonl" || true)
[ "$n" = 0 ] || { echo "FAIL: $n silence alerts on the samples"; fail=1; }
zstd -dc "$src/tools/samples/postfix.log.zst" | awk '!($2 == "mta2" && $1 >= "2026-11-02T10:00" && $1 < "2026-11-02T11:00")' > "$work/postfix.log"
"$bin" replay --quiet --out "$work/silent" "$work/postfix.log"
python3 - "$work/silent/alerts.jsonl" <<'PY' || fail=1
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"kind":"silence"' in l]
got = [(a["state"], a["key"].get("mta"), a["key"]["provider"], a["window"]["start"], a.get("since")) for a in s]
t10 = 1793613600000  # 2026-11-02T10:00:00Z
want = [("firing", "mta2", "other", t10 + 15 * 60000, t10), ("resolved", "mta2", "other", t10 + 60 * 60000, t10)]
if got != want or s[0]["id"] != s[1]["id"] or s[0]["count"] != 0 or s[0]["attempts"] < 300:
    print("FAIL: silence alerts", got, "want", want)
    sys.exit(1)
PY

[ "$fail" = 0 ] && echo "ops outputs: hashed outputs leak no address and match hash-address; silence alerts as expected"
exit "$fail"
