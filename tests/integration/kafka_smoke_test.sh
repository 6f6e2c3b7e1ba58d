#!/usr/bin/env bash
# Proves the tier-2 harness works where it runs (including CI): starts a real single-node Kafka broker
# with kafka_broker.sh, lets the broker auto-create a 3-partition topic on first produce, produces 1000
# keyed messages with kcat, reads them back with `kcat -C -e` and checks that exactly those 1000 came
# back, each once, and that per-key order survived. Called by ctest as: bash THIS <bouncestream> <source-dir>
# (the binary is not used here).
set -euo pipefail

SRC_DIR="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BROKER="${SRC_DIR}/tests/integration/kafka_broker.sh"
readonly N=1000
readonly TOPIC="smoke-$$"

now_ms() { date +%s%3N; }
fail() { echo "FAIL: $*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bs-kafka-smoke.XXXXXX")"
cleanup() {
  bash "${BROKER}" stop "${WORK}/broker" || true
  rm -rf "${WORK}"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # run the EXIT trap on ctest's timeout or Ctrl-C too
# And if this script is killed outright, the broker's watchdog stops it.
export KAFKA_OWNER_PID=$$

t0="$(now_ms)"
bash "${BROKER}" fetch
t_fetch=$(( $(now_ms) - t0 ))

t0="$(now_ms)"
BOOTSTRAP="$(bash "${BROKER}" start "${WORK}/broker" num.partitions=3)"
t_start=$(( $(now_ms) - t0 ))
[[ "${BOOTSTRAP}" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "start printed '${BOOTSTRAP}', not a loopback address"
bash "${BROKER}" status "${WORK}/broker" >/dev/null || fail "status does not report the broker as running"

# A second start on the same folder must find the running broker, not start another.
again="$(bash "${BROKER}" start "${WORK}/broker")"
[[ "${again}" == "${BOOTSTRAP}" ]] || fail "second start gave '${again}', expected '${BOOTSTRAP}'"

# Keys k0..k9 spread over the partitions; values carry a sequence number.
for ((i = 0; i < N; i++)); do
  printf 'k%d:%d\n' $((i % 10)) "${i}"
done >"${WORK}/in.txt"

t0="$(now_ms)"
timeout 120 kcat -P -b "${BOOTSTRAP}" -t "${TOPIC}" -K: -X request.required.acks=all -l "${WORK}/in.txt" ||
  fail "kcat could not produce"
t_produce=$(( $(now_ms) - t0 ))

parts="$(timeout 60 kcat -L -b "${BOOTSTRAP}" -t "${TOPIC}" -J |
  "$(command -v python3 || echo /usr/bin/python3)" -c 'import json,sys; print(len(json.load(sys.stdin)["topics"][0]["partitions"]))')"
[[ "${parts}" == 3 ]] || fail "auto-created topic has ${parts} partitions, expected 3"

t0="$(now_ms)"
timeout 120 kcat -C -b "${BOOTSTRAP}" -t "${TOPIC}" -o beginning -e -q -f '%k:%s\n' >"${WORK}/out.txt" ||
  fail "kcat could not consume"
t_consume=$(( $(now_ms) - t0 ))

got="$(wc -l <"${WORK}/out.txt")"
[[ "${got}" -eq "${N}" ]] || fail "consumed ${got} messages, produced ${N}"
# Same multiset of messages: nothing lost, nothing duplicated.
cmp -s <(sort "${WORK}/in.txt") <(sort "${WORK}/out.txt") || fail "consumed messages differ from produced"
# Within a key (one partition) the order is the produce order.
for ((k = 0; k < 10; k++)); do
  cmp -s <(grep "^k${k}:" "${WORK}/in.txt") <(grep "^k${k}:" "${WORK}/out.txt") ||
    fail "order of key k${k} changed"
done

t0="$(now_ms)"
bash "${BROKER}" stop "${WORK}/broker"
t_stop=$(( $(now_ms) - t0 ))
[[ ! -d "${WORK}/broker/data" ]] || fail "stop left the data dir behind"
if bash "${BROKER}" status "${WORK}/broker" >/dev/null; then fail "status says running after stop"; fi

echo "kafka smoke: fetch ${t_fetch} ms, broker start ${t_start} ms, produce ${N} ${t_produce} ms," \
  "consume ${N} ${t_consume} ms, stop ${t_stop} ms"
echo "PASS kafka_smoke_test"
