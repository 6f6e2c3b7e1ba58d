#!/usr/bin/env bash
# Failures against a real Kafka broker (tier 2), one broker for all scenarios:
#  1. at-least-once, kill -9 mid-run and restart: no suppression or dead letter is lost (the same ones
#     as `replay`); a repeated output always carries the same id and decision;
#  2. exactly-once, kill -9 mid-transaction and restart (same transactional id, which fences and aborts
#     the open transaction): a read_committed consumer sees every suppression, dead letter and alert
#     exactly as a clean exactly-once run writes them — nothing lost, nothing twice — while a
#     read_uncommitted one sees the aborted transaction's records too (the kill did hit one);
#  3. two consumers, one leaving mid-run: the other takes over its partitions with their state restored
#     from the changelog — input partitions (suppression state, window progress) and repartition
#     partitions (judging state: baselines, open incidents); suppressions, dead letters and alerts are
#     those of a single-process replay (silence alerts aside: judged per process): alert windows are
#     counted in both processes and merged through the repartition topic.
# Exactly-once keeps alert windows per process (README), so 2 compares alerts only for duplicates.
# Called by ctest as: bash THIS <bouncestream> <source-dir>
set -euo pipefail

BIN="$1"
SRC="$2"
# shellcheck source=kafka_lib.sh
source "${SRC}/tests/integration/kafka_lib.sh"
T0="$(now_ms)"
TOTAL=$((SAMPLE_RECORDS + SENTINELS))

start_broker
prepare_samples
replay_reference "${WORK}/ref"

# kill_mid_run URL PID N [METRIC]: kill -9 as soon as METRIC (default: outputs acknowledged by the
# brokers) reaches N — decisions are quick; acknowledgements, changelog and commits follow them: mid-run.
kill_mid_run() {
  local url="$1" pid="$2" want="$3" metric="${4:-bouncestream_outputs_acknowledged_total}" acked=0
  local deadline=$(( $(date +%s) + 120 ))
  while (( acked < want )); do
    (( $(date +%s) < deadline )) || fail "service never reached ${metric} ${want}"
    acked="$(curl -fsS --max-time 2 "${url}/metrics" 2>/dev/null | awk -v m="${metric}" '$1 == m {print $2}' || true)"
    acked="${acked:-0}"
  done
  kill -KILL "${pid}"
  wait "${pid}" 2>/dev/null || true
  echo "${acked}"
}
# ---------------------------------------------------------------- 1. at-least-once, kill -9
produce_samples alo
produce_sentinels alo
# Small batches, so the kill lands between many of them.
MAX_BATCH=300 write_config "${WORK}/alo.toml" alo-group alo
start_service a1 "${WORK}/alo.toml"
killed_at="$(kill_mid_run "${a1_URL}" "${a1_PID}" 2000)"
log "at-least-once: killed after ${killed_at} outputs were acknowledged"
start_service a2 "${WORK}/alo.toml"
# The restart reads from the committed offsets (what the first run had not finished) to the end.
wait_for "the restarted service to reach the end" 120 caught_up "${a2_URL}"
reread="$(consumed "${a2_URL}")"
(( reread > SENTINELS )) || fail "the restart read only ${reread} records: the kill came after everything was committed"
log "at-least-once: the restart read ${reread} records again or for the first time"
stop_service "${a2_PID}" a2
consume alo-suppressions "${WORK}/alo-sup.jsonl"
consume alo-dlq "${WORK}/alo-dlq.jsonl"
"${PY}" "${OUTPUTS_PY}" compare suppressions "${WORK}/alo-sup.jsonl" "${WORK}/ref/suppressions.jsonl" --allow-dups ||
  fail "at-least-once after kill -9: suppressions lost or changed"
"${PY}" "${OUTPUTS_PY}" compare dlq "${WORK}/alo-dlq.jsonl" "${WORK}/ref/dlq.jsonl" --allow-dups ||
  fail "at-least-once after kill -9: dead letters lost"

# ------------------------------------------------------------------ 2. exactly-once, kill -9
produce_samples eos
produce_sentinels eos
# With the classified output every transaction carries records (one per event), so the kill is sure to
# leave an open transaction behind, and every one of 42 k events must come out exactly once.
CLASSIFIED=1 OUT_PREFIX=eosclean write_config "${WORK}/eos-clean.toml" eos-clean-group eos 'delivery = "exactly_once"'
MAX_BATCH=300 CLASSIFIED=1 OUT_PREFIX=eoskill write_config "${WORK}/eos-kill.toml" eos-kill-group eos 'delivery = "exactly_once"'
start_service c1 "${WORK}/eos-clean.toml"
wait_for "the clean exactly-once run to read everything" 120 consumed_at_least "${c1_URL}" "${TOTAL}"
stop_service "${c1_PID}" c1
start_service k1 "${WORK}/eos-kill.toml"
# Killed once 500 records of the open transaction are in the brokers' logs, uncommitted.
killed_at="$(kill_mid_run "${k1_URL}" "${k1_PID}" 500 bouncestream_transaction_open_outputs)"
log "exactly-once: killed with ${killed_at} records of an open transaction in the log"
start_service k2 "${WORK}/eos-kill.toml"
wait_for "the restarted exactly-once service to reach the end" 120 caught_up "${k2_URL}"
stop_service "${k2_PID}" k2
for kind in suppressions dlq alerts classified; do
  consume "eosclean-${kind}" "${WORK}/clean-${kind}.jsonl"
  consume "eoskill-${kind}" "${WORK}/kill-${kind}.jsonl"
done
for kind in suppressions dlq classified; do
  # Exactly the clean run's records, each once: sorted lists compared byte for byte (positions included,
  # since both runs read the same input topics).
  cmp -s <(sort "${WORK}/clean-${kind}.jsonl") <(sort "${WORK}/kill-${kind}.jsonl") ||
    fail "exactly-once after kill -9: ${kind} differ from a clean run ($(wc -l <"${WORK}/kill-${kind}.jsonl") vs $(wc -l <"${WORK}/clean-${kind}.jsonl"))"
done
"${PY}" "${OUTPUTS_PY}" compare suppressions "${WORK}/clean-suppressions.jsonl" "${WORK}/ref/suppressions.jsonl" \
  --allow-dups || fail "the clean exactly-once run differs from replay"
dup_alerts="$(sort "${WORK}/kill-alerts.jsonl" | uniq -d | wc -l)"
[[ "${dup_alerts}" -eq 0 ]] || fail "exactly-once after kill -9: ${dup_alerts} alert records seen twice"
n_events="$(wc -l <"${WORK}/kill-classified.jsonl")"
(( n_events > 40000 )) || fail "only ${n_events} classified events"
# The killed run left an open transaction behind, aborted when its successor started: its records are in
# the log (read_uncommitted sees them) but never reach a read_committed consumer.
consume eoskill-classified "${WORK}/kill-classified-all.jsonl" -X isolation.level=read_uncommitted
n_all="$(wc -l <"${WORK}/kill-classified-all.jsonl")"
(( n_all > n_events )) || fail "no aborted transaction records: the kill did not interrupt a transaction"
log "exactly-once: ${n_events} classified events committed once each; $((n_all - n_events)) records of aborted transactions"

# --------------------------------------------------- 3. two consumers, one leaving mid-run
# The input arrives in three parts: the first read by g1 alone, the second while g2 joins (a cooperative
# rebalance moves partitions, with their state, to g2), the third after g1 has left (g2 takes over
# g1's partitions, restoring their state from the changelog).
split_keyed() {  # split_keyed FILE: FILE.1, FILE.2, FILE.3 of about equal size
  local n
  n="$(wc -l <"$1")"
  head -n $((n / 3)) "$1" >"$1.1"
  sed -n "$((n / 3 + 1)),$((2 * n / 3))p" "$1" >"$1.2"
  tail -n +$((2 * n / 3 + 1)) "$1" >"$1.3"
}
produce_part() {  # produce_part N: part N of both keyed sample files into the grp topics
  timeout 60 kcat -P -b "${BOOTSTRAP}" -t grp-kumomta -K $'\x1f' -l "${WORK}/kumomta.keyed.$1" || fail "producing"
  timeout 60 kcat -P -b "${BOOTSTRAP}" -t grp-postfix -K $'\x1f' -l "${WORK}/postfix.keyed.$1" || fail "producing"
}
split_keyed "${WORK}/kumomta.keyed"
split_keyed "${WORK}/postfix.keyed"
produce_part 1
write_config "${WORK}/grp.toml" grp-group grp
start_service g1 "${WORK}/grp.toml"
wait_for "g1 to read the first part" 60 caught_up "${g1_URL}"
start_service g2 "${WORK}/grp.toml"
assigned() { curl -fsS --max-time 2 "$1/metrics" | awk '/^bouncestream_assigned_partitions /{print $2}'; }
both_assigned() {
  local a b
  a="$(assigned "${g1_URL}")"
  b="$(assigned "${g2_URL}")"
  [[ "${a:-0}" -gt 0 && "${b:-0}" -gt 0 && $(( ${a:-0} + ${b:-0} )) -eq 8 ]]
}
wait_for "both consumers to hold partitions" 60 both_assigned
grep -q "restored [1-9][0-9]* state records" "${WORK}/g2.log" || fail "g2 restored no state for the partitions it took"
produce_part 2
both_caught_up() { caught_up "${g1_URL}" "$(assigned "${g1_URL}")" && caught_up "${g2_URL}" "$(assigned "${g2_URL}")"; }
wait_for "both consumers to read the second part" 120 both_caught_up
stop_service "${g1_PID}" g1  # leaves the group: g2 takes its partitions and restores their state
all_assigned() { [[ "$(assigned "${g2_URL}")" == 8 ]]; }
wait_for "the remaining consumer to hold every partition" 60 all_assigned
produce_part 3
produce_sentinels grp
wait_for "the remaining consumer to catch up" 120 caught_up "${g2_URL}"
stop_service "${g2_PID}" g2
consume grp-suppressions "${WORK}/grp-sup.jsonl"
consume grp-dlq "${WORK}/grp-dlq.jsonl"
"${PY}" "${OUTPUTS_PY}" compare suppressions "${WORK}/grp-sup.jsonl" "${WORK}/ref/suppressions.jsonl" --allow-dups ||
  fail "two consumers: suppressions differ from a single-consumer run"
"${PY}" "${OUTPUTS_PY}" compare dlq "${WORK}/grp-dlq.jsonl" "${WORK}/ref/dlq.jsonl" --allow-dups ||
  fail "two consumers: dead letters differ"
consume grp-alerts "${WORK}/grp-alerts.jsonl"
# Silence alerts are judged per process (README, known limits): a host whose partition moved to the
# other process looks quiet to the first one. Every window alert must be the single process's.
"${PY}" "${OUTPUTS_PY}" compare alerts "${WORK}/grp-alerts.jsonl" "${WORK}/ref/alerts.jsonl" --allow-dups \
  --without-kind silence ||
  fail "two consumers: alerts differ from a single-process replay (windows not merged across processes?)"
grep -q "assigned grp-repartition/[0-9]* (judging its alert windows); restored [1-9]" "${WORK}/g2.log" ||
  fail "g2 took over no repartition partition with judging state"
rebalances="$(grep -c "assigned grp-\(kumomta\|postfix\)" "${WORK}/g2.log")"
(( rebalances >= 8 )) || fail "g2 was assigned only ${rebalances} partitions in all"

echo "kafka faults: kill -9 (at-least-once and exactly-once) and a consumer leaving mid-run lose nothing;" \
  "whole test $(( $(now_ms) - T0 )) ms"
echo "PASS kafka_faults_test"
