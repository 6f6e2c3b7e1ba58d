#!/usr/bin/env bash
# End-to-end against a real Kafka broker (tier 2), at-least-once:
#  1. the bundled samples are produced keyed into two topics (KumoMTA by recipient, Postfix by MTA host),
#     `bouncestream run` consumes them, far-future records per partition close every window, SIGTERM
#     stops it gracefully — and its alerts, suppressions and dead letters are the ones `bouncestream
#     replay` writes for the same samples (suppressions may repeat, always with identical ids and content,
#     when one address appears in several partitions: state is per partition);
#  2. after the graceful stop, every offset is committed but that of the last record of each partition,
#     whose alert windows are still open (a restart must read it again);
#  3. `bouncestream tail` prints each alert on one readable line;
#  4. a backfill by timestamp (`replay --brokers --topic --from --to`) reads exactly the records produced
#     in its time range;
#  5. clear errors: a missing input topic and unreachable brokers stop `run` with exit 1 and a message.
# Called by ctest as: bash THIS <bouncestream> <source-dir>
set -euo pipefail

BIN="$1"
SRC="$2"
# shellcheck source=kafka_lib.sh
source "${SRC}/tests/integration/kafka_lib.sh"
T0="$(now_ms)"

start_broker
prepare_samples
replay_reference "${WORK}/ref"

# ------------------------------------------------------------------- 1. end to end, at-least-once
produce_samples e2e
write_config "${WORK}/e2e.toml" e2e-group e2e
start_service svc "${WORK}/e2e.toml"
t_run="$(now_ms)"
wait_for "the service to read every sample record" 180 consumed_at_least "${svc_URL}" "${SAMPLE_RECORDS}"
t_read=$(( $(now_ms) - t_run ))
curl -fsS "${svc_URL}/healthz" | grep -q ok || fail "/healthz does not answer ok"
curl -fsS "${svc_URL}/readyz" | grep -q ready || fail "/readyz is not ready with every partition assigned"
produce_sentinels e2e
wait_for "the sentinels to be read" 60 consumed_at_least "${svc_URL}" $((SAMPLE_RECORDS + SENTINELS))
curl -fsS "${svc_URL}/metrics" >"${WORK}/metrics.txt" || fail "/metrics"
for m in bouncestream_records_in_total bouncestream_events_total bouncestream_dlq_total \
         bouncestream_suppressions_total bouncestream_rebalances_total bouncestream_sink_queue_depth \
         bouncestream_records_out_total bouncestream_rule_hits_total bouncestream_alerts_total \
         bouncestream_late_events_total bouncestream_consumer_lag bouncestream_state_addresses \
         bouncestream_rules_reload_success bouncestream_rules_reload_timestamp_seconds \
         bouncestream_window_exchange_total; do
  grep -q "^${m}" "${WORK}/metrics.txt" || fail "/metrics lacks ${m}"
done
# One snapshot: every decided event counted under exactly one rule id, and outputs counted as written.
"${PY}" - "${WORK}/metrics.txt" $((SAMPLE_RECORDS + SENTINELS)) <<'PY' || fail "/metrics counts disagree"
import re, sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    m[name] = float(value)
# Input records only (the repartition topic's messages are not input).
assert m['bouncestream_records_in_total{stage="consume"}'] == int(sys.argv[2]), m['bouncestream_records_in_total{stage="consume"}']
decided = m['bouncestream_records_in_total{stage="decide"}']
hits = {k: v for k, v in m.items() if k.startswith("bouncestream_rule_hits_total{")}
assert decided > 0 and sum(hits.values()) == decided, (decided, sum(hits.values()))
assert any(k.startswith('bouncestream_rule_hits_total{rule="gmail.') and v > 0 for k, v in hits.items()), "no gmail rule hits"
assert m['bouncestream_records_out_total{output="suppressions"}'] >= 278, m['bouncestream_records_out_total{output="suppressions"}']
assert m['bouncestream_records_out_total{output="dlq"}'] > 0
assert m["bouncestream_rules_reload_timestamp_seconds"] > 1.7e9
# The alert windows went through the repartition topic: partials and markers out, nothing rejected.
assert m['bouncestream_window_exchange_total{what="partial_cells_sent"}'] > 0
assert m['bouncestream_window_exchange_total{what="markers_sent"}'] > 0
assert m['bouncestream_window_exchange_total{what="messages_rejected"}'] == 0
PY
stop_service "${svc_PID}" svc
grep -q "stopped cleanly" "${WORK}/svc.log" || fail "no clean stop in the log"

consume e2e-alerts "${WORK}/alerts.jsonl"
consume e2e-suppressions "${WORK}/suppressions.jsonl"
consume e2e-dlq "${WORK}/dlq.jsonl"
"${PY}" "${OUTPUTS_PY}" compare alerts "${WORK}/alerts.jsonl" "${WORK}/ref/alerts.jsonl" ||
  fail "alerts from Kafka differ from replay's"
"${PY}" "${OUTPUTS_PY}" compare suppressions "${WORK}/suppressions.jsonl" "${WORK}/ref/suppressions.jsonl" --allow-dups ||
  fail "suppressions from Kafka differ from replay's"
"${PY}" "${OUTPUTS_PY}" compare dlq "${WORK}/dlq.jsonl" "${WORK}/ref/dlq.jsonl" || fail "dead letters differ"
n_alerts="$(wc -l <"${WORK}/alerts.jsonl")"
[[ "${n_alerts}" -gt 0 ]] || fail "no alerts at all"
# Dead letters name their Kafka position.
grep -q '"position":"e2e-postfix/[0-3]@[0-9]*"' "${WORK}/dlq.jsonl" || fail "dead letters lack topic/partition@offset"

# ------------------------------------------------------------- 2. offsets committed at the stop
# kcat as a member of the service's group (auto commit off) reads what is after the committed offsets:
# only sentinel B of each partition (its windows are still open, so its offset is held back).
timeout 60 kcat -b "${BOOTSTRAP}" -G e2e-group -X enable.auto.commit=false -X auto.offset.reset=earliest \
  -e -q -f '%t %p %o\n' e2e-kumomta e2e-postfix >"${WORK}/uncommitted.txt" 2>/dev/null ||
  fail "reading after the committed offsets"
n_unc="$(wc -l <"${WORK}/uncommitted.txt")"
[[ "${n_unc}" -eq 8 ]] || fail "${n_unc} records after the committed offsets; expected the 8 of sentinel B"

# ----------------------------------------------------------------------------------- 3. tail
"${BIN}" tail --brokers "${BOOTSTRAP}" --topic e2e-alerts --from-beginning --exit-at-end >"${WORK}/tail.txt" ||
  fail "tail exited with an error"
[[ "$(wc -l <"${WORK}/tail.txt")" -eq "${n_alerts}" ]] || fail "tail printed $(wc -l <"${WORK}/tail.txt") lines for ${n_alerts} alerts"
grep -Evq '^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} (FIRING|UPDATED|RESOLVED) ' "${WORK}/tail.txt" &&
  fail "a tail line is not a readable alert: $(grep -Ev '^20[0-9]{2}-' "${WORK}/tail.txt" | head -1)"
first_id="$("${PY}" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "${WORK}/alerts.jsonl")"
grep -q "\[${first_id}\]" "${WORK}/tail.txt" || fail "tail does not show alert id ${first_id}"
"${BIN}" tail --brokers "${BOOTSTRAP}" --topic e2e-alerts --from-beginning --exit-at-end --json >"${WORK}/tail.json"
cmp -s <(sort "${WORK}/tail.json") <(sort "${WORK}/alerts.jsonl") || fail "tail --json is not the alert records"

# -------------------------------------------------------------------------- 4. backfill by time
# Half of the KumoMTA samples, then a time T, then the other half: --from T reads the second half only.
head -n 14000 "${WORK}/kumomta.keyed" | cut -d $'\x1f' -f 2- >"${WORK}/first.jsonl"
tail -n +14001 "${WORK}/kumomta.keyed" | cut -d $'\x1f' -f 2- >"${WORK}/second.jsonl"
head -n 14000 "${WORK}/kumomta.keyed" >"${WORK}/first.keyed"
tail -n +14001 "${WORK}/kumomta.keyed" >"${WORK}/second.keyed"
timeout 60 kcat -P -b "${BOOTSTRAP}" -t bf-kumomta -K $'\x1f' -X request.required.acks=all -l "${WORK}/first.keyed" ||
  fail "producing the first half"
T_SPLIT="$(now_ms)"
# The broker stamps records with the producer's clock; make sure the next record is stamped later.
clock_past() { [[ "$(now_ms)" -gt "$1" ]]; }
wait_for "the clock to pass the split time" 5 clock_past "$((T_SPLIT + 5))"
timeout 60 kcat -P -b "${BOOTSTRAP}" -t bf-kumomta -K $'\x1f' -X request.required.acks=all -l "${WORK}/second.keyed" ||
  fail "producing the second half"
T_END="$(now_ms)"
"${BIN}" replay --quiet --brokers "${BOOTSTRAP}" --topic bf-kumomta --format kumomta --from "${T_SPLIT}" \
  --out "${WORK}/bf2" || fail "backfill --from"
"${BIN}" replay --quiet --brokers "${BOOTSTRAP}" --topic bf-kumomta --format kumomta --from 0 --to "${T_SPLIT}" \
  --out "${WORK}/bf1" || fail "backfill --from --to"
"${BIN}" replay --quiet --format kumomta --out "${WORK}/ref2" "${WORK}/second.jsonl" || fail "replay of the second half"
"${BIN}" replay --quiet --format kumomta --out "${WORK}/ref1" "${WORK}/first.jsonl" || fail "replay of the first half"
for half in 1 2; do
  for kind in alerts suppressions dlq; do
    "${PY}" "${OUTPUTS_PY}" compare "${kind}" "${WORK}/bf${half}/${kind}.jsonl" "${WORK}/ref${half}/${kind}.jsonl" \
      --allow-dups || fail "backfill half ${half}: ${kind} differ from replay of the same records"
  done
done
# ISO 8601 works as well as epoch milliseconds: an empty range gives empty outputs.
"${BIN}" replay --quiet --brokers "${BOOTSTRAP}" --topic bf-kumomta --from 2001-01-01T00:00:00Z \
  --to 2001-01-02T00:00:00Z --out "${WORK}/bf0" || fail "backfill of an empty range"
[[ ! -s "${WORK}/bf0/suppressions.jsonl" ]] || fail "an empty time range produced suppressions"
(( T_END > T_SPLIT )) || fail "clock went backwards"

# ------------------------------------------------------------------------------- 5. clear errors
write_config "${WORK}/missing.toml" missing-group nosuch
set +e
timeout 60 "${BIN}" run --config "${WORK}/missing.toml" >"${WORK}/missing.out" 2>&1
rc=$?
set -e
[[ "${rc}" -eq 1 ]] || fail "run with a missing input topic exited ${rc}, expected 1"
grep -q "topic 'nosuch-kumomta' does not exist" "${WORK}/missing.out" || fail "no clear missing-topic message: $(tail -2 "${WORK}/missing.out")"
sed "s/^brokers = .*/brokers = \"127.0.0.1:1\"/" "${WORK}/e2e.toml" >"${WORK}/down.toml"
set +e
timeout 60 "${BIN}" run --config "${WORK}/down.toml" >"${WORK}/down.out" 2>&1
rc=$?
set -e
[[ "${rc}" -eq 1 ]] || fail "run with unreachable brokers exited ${rc}, expected 1"
grep -q "cannot reach the Kafka brokers at 127.0.0.1:1" "${WORK}/down.out" || fail "no clear unreachable-broker message: $(tail -2 "${WORK}/down.out")"

echo "kafka runtime: samples read in ${t_read} ms; ${n_alerts} alerts, $(wc -l <"${WORK}/suppressions.jsonl") suppression records equal replay's;" \
  "tail, backfill by time and error messages checked; whole test $(( $(now_ms) - T0 )) ms"
echo "PASS kafka_runtime_test"
