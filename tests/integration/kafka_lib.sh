# Shared helpers of the tier-2 Kafka tests (sourced, not run): a broker per script stopped in a trap, the
# bundled samples produced keyed, the service started and stopped, conditions waited on under deadlines,
# outputs read back and compared with `bouncestream replay` (kafka_outputs.py).
# The sourcing script sets BIN (the bouncestream binary) and SRC (the repository) first.

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BROKER_SH="${LIB_DIR}/kafka_broker.sh"
OUTPUTS_PY="${LIB_DIR}/kafka_outputs.py"
PY="$(command -v python3 || echo /usr/bin/python3)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bs-kafka-test.XXXXXX")"
SERVICE_PIDS=()
SERVICE_URLS=()
# Far after the samples (2026-11-02 08:00–14:00 UTC): sentinel A closes every sample window; sentinel B,
# a day later, closes A's windows, as the end of input does in replay (B's own windows stay open).
SENTINEL_MS=1793750400000  # 2026-11-04T00:00:00Z
SENTINEL_B_MS=1793836800000  # 2026-11-05T00:00:00Z
# Records in the bundled samples (the replay summary's per-input counts).
SAMPLE_RECORDS=55714

now_ms() { date +%s%3N; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
fail() {
  echo "FAIL: $*" >&2
  local u
  for u in "${SERVICE_URLS[@]}"; do
    curl -fsS --max-time 2 "${u}/metrics" 2>/dev/null | grep -E "^bouncestream_(records_in|consumer_lag|assigned)" |
      sed "s|^|  ${u} |" >&2 || true
  done
  for f in "${WORK}"/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- last lines of ${f##*/}" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

cleanup() {
  local pid
  for pid in "${SERVICE_PIDS[@]}"; do kill -KILL "${pid}" 2>/dev/null || true; done
  bash "${BROKER_SH}" stop "${WORK}/broker" >/dev/null 2>&1 || true
  if [[ -n "${KAFKA_TEST_KEEP:-}" ]]; then echo "kept ${WORK}" >&2; else rm -rf "${WORK}"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT
export KAFKA_OWNER_PID=$$

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND until it succeeds, fails the test at the deadline.
wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@"; do
    (( $(date +%s) < deadline )) || fail "timed out after ${timeout}s waiting for ${what}"
    sleep 0.2
  done
}

start_broker() {
  bash "${BROKER_SH}" fetch >/dev/null
  BOOTSTRAP="$(bash "${BROKER_SH}" start "${WORK}/broker" num.partitions=4 log.cleaner.backoff.ms=1000)" ||
    fail "broker did not start"
  log "broker at ${BOOTSTRAP}"
}

# Keyed copies of the bundled samples, made once per test run.
prepare_samples() {
  zstd -dc "${SRC}/tools/samples/kumomta.jsonl.zst" | "${PY}" "${OUTPUTS_PY}" key kumomta >"${WORK}/kumomta.keyed"
  zstd -dc "${SRC}/tools/samples/postfix.log.zst" | "${PY}" "${OUTPUTS_PY}" key postfix >"${WORK}/postfix.keyed"
  local n
  n=$(( $(wc -l <"${WORK}/kumomta.keyed") + $(wc -l <"${WORK}/postfix.keyed") ))
  [[ "${n}" -eq "${SAMPLE_RECORDS}" ]] || fail "samples have ${n} records, expected ${SAMPLE_RECORDS}"
  for i in 0 1 2 3; do
    "${PY}" "${OUTPUTS_PY}" sentinel kumomta "${SENTINEL_MS}" "${i}" >>"${WORK}/sentinel.jsonl"
    "${PY}" "${OUTPUTS_PY}" sentinel postfix "${SENTINEL_MS}" "${i}" >>"${WORK}/sentinel.log"
    "${PY}" "${OUTPUTS_PY}" sentinel kumomta "${SENTINEL_B_MS}" "${i}" >>"${WORK}/sentinel_b.jsonl"
    "${PY}" "${OUTPUTS_PY}" sentinel postfix "${SENTINEL_B_MS}" "${i}" >>"${WORK}/sentinel_b.log"
  done
}

# produce_samples PREFIX: the samples into PREFIX-kumomta and PREFIX-postfix (4 partitions each, created
# by the broker on first use), keyed as a log shipper would.
produce_samples() {
  local prefix="$1"
  timeout 120 kcat -P -b "${BOOTSTRAP}" -t "${prefix}-kumomta" -K $'\x1f' -X request.required.acks=all \
    -l "${WORK}/kumomta.keyed" || fail "producing kumomta samples"
  timeout 120 kcat -P -b "${BOOTSTRAP}" -t "${prefix}-postfix" -K $'\x1f' -X request.required.acks=all \
    -l "${WORK}/postfix.keyed" || fail "producing postfix samples"
}

# produce_sentinels PREFIX: sentinels A, then B, into every partition of both input topics (16 records).
produce_sentinels() {
  local prefix="$1" p suffix
  for suffix in "" _b; do
    for p in 0 1 2 3; do
      sed -n "$((p + 1))p" "${WORK}/sentinel${suffix}.jsonl" |
        timeout 30 kcat -P -b "${BOOTSTRAP}" -t "${prefix}-kumomta" -p "${p}" -X request.required.acks=all ||
        fail "producing a sentinel"
      sed -n "$((p + 1))p" "${WORK}/sentinel${suffix}.log" |
        timeout 30 kcat -P -b "${BOOTSTRAP}" -t "${prefix}-postfix" -p "${p}" -X request.required.acks=all ||
        fail "producing a sentinel"
    done
  done
}
SENTINELS=16

# write_config FILE GROUP PREFIX [TOML lines...]: a service config reading PREFIX-kumomta/-postfix and
# writing PREFIX-alerts/-suppressions/-dlq/-changelog (created by the service); OUT_PREFIX, when set,
# names the outputs instead; CLASSIFIED=1 adds the classified output; MAX_BATCH sets max_batch_messages. Extra lines are appended inside
# [kafka] (before the other sections).
write_config() {
  local file="$1" group="$2" prefix="$3"
  local out="${OUT_PREFIX:-${prefix}}"
  shift 3
  {
    echo "[kafka]"
    echo "brokers = \"${BOOTSTRAP}\""
    echo "group_id = \"${group}\""
    echo "input_topics = [\"${prefix}-kumomta\", \"${prefix}-postfix\"]"
    local line
    for line in "$@"; do echo "${line}"; done
    echo "[kafka.properties]"
    echo "\"session.timeout.ms\" = \"6000\""
    echo "\"heartbeat.interval.ms\" = \"500\""
    echo "[topics]"
    echo "create_missing = true"
    for t in alerts suppressions dlq changelog repartition; do echo "${t} = \"${out}-${t}\""; done
    [[ -z "${CLASSIFIED:-}" ]] || echo "classified = \"${out}-classified\""
    echo "[input.formats]"
    echo "\"${prefix}-kumomta\" = \"kumomta\""
    echo "\"${prefix}-postfix\" = \"postfix\""
    echo "[processing]"
    echo "idle_partition_seconds = 600"  # bursts of old records: only empty partitions park
    echo "commit_interval_ms = 200"
    echo "max_batch_messages = ${MAX_BATCH:-5000}"
    echo "[metrics]"
    echo "listen = \"127.0.0.1:0\""
  } >"${file}"
  "${BIN}" config check "${file}" >/dev/null || fail "config ${file} does not validate"
}

# start_service NAME CONFIG: starts `run` in the background; sets NAME_PID and NAME_URL (metrics).
start_service() {
  local name="$1" config="$2"
  "${BIN}" run --config "${config}" >"${WORK}/${name}.log" 2>&1 &
  local pid=$!
  SERVICE_PIDS+=("${pid}")
  printf -v "${name}_PID" '%s' "${pid}"
  local url=""
  local deadline=$(( $(date +%s) + 60 ))
  while [[ -z "${url}" ]]; do
    kill -0 "${pid}" 2>/dev/null || fail "service ${name} exited at start"
    (( $(date +%s) < deadline )) || fail "service ${name} did not start its metrics endpoint"
    url="$(sed -n 's/.*serving \/metrics, \/healthz, \/readyz on \([0-9.:]*\).*/\1/p' "${WORK}/${name}.log" | head -1)"
    [[ -n "${url}" ]] || sleep 0.2
  done
  printf -v "${name}_URL" 'http://%s' "${url}"
  SERVICE_URLS+=("http://${url}")
}

consumed() {  # consumed URL: input records the service has read (0 when it does not answer)
  curl -fsS --max-time 2 "$1/metrics" 2>/dev/null |
    awk '/^bouncestream_records_in_total\{stage="consume"\} /{print $2; found=1} END{if (!found) print 0}'
}

consumed_at_least() {  # consumed_at_least URL N: the service has read N input records
  [[ "$(consumed "$1")" -ge "$2" ]]
}

caught_up() {  # caught_up URL [N]: the service reports a lag for N (8) partitions, all 0
  curl -fsS --max-time 2 "$1/metrics" 2>/dev/null |
    awk -v want="${2:-8}" '/^bouncestream_consumer_lag\{/{n++; s+=$2} END{exit !(n == want && s == 0)}'
}

# stop_service PID [NAME]: SIGTERM, then waits for a clean exit (status 0).
stop_service() {
  local pid="$1" name="${2:-service}"
  kill -TERM "${pid}" 2>/dev/null || fail "${name} (pid ${pid}) is not running"
  local deadline=$(( $(date +%s) + 90 ))
  while kill -0 "${pid}" 2>/dev/null; do
    (( $(date +%s) < deadline )) || fail "${name} did not stop within 90 s of SIGTERM"
    sleep 0.2
  done
  wait "${pid}" 2>/dev/null
  local rc=$?
  [[ "${rc}" -eq 0 ]] || fail "${name} exited with ${rc} after SIGTERM"
}

# consume TOPIC OUT [kcat options]: everything in TOPIC now (read_committed, librdkafka's default).
consume() {
  local topic="$1" out="$2"
  shift 2
  timeout 120 kcat -C -b "${BOOTSTRAP}" -t "${topic}" -o beginning -e -q "$@" >"${out}" ||
    fail "consuming ${topic}"
}

# The reference: `bouncestream replay` of the same samples and sentinel A (formats detected per file): its
# end of input closes what sentinel B closes in the service.
replay_reference() {
  local out="$1"
  "${BIN}" replay --quiet --out "${out}" "${SRC}/tools/samples/kumomta.jsonl.zst" "${SRC}/tools/samples/postfix.log.zst" \
    "${WORK}/sentinel.jsonl" "${WORK}/sentinel.log" >/dev/null || fail "replay of the samples"
}
