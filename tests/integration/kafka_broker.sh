#!/usr/bin/env bash
# Starts and stops a throwaway single-node Apache Kafka broker (KRaft) on loopback for the tier-2
# integration tests (see ../shared/spec/KAFKA_TESTING.md). There is no Debian package of the broker, so
# its jars come from Maven Central once and are kept in an ignored cache folder.
#
#   kafka_broker.sh fetch                 resolve the jars into $KAFKA_CACHE_ROOT/<version>/ (skips if cached)
#   kafka_broker.sh start DIR [k=v ...]   start a broker whose files live in DIR; prints the bootstrap
#                                          address (127.0.0.1:PORT) on stdout; extra k=v become broker props
#   kafka_broker.sh stop DIR              stop it by its pid, wait, delete its data dir
#   kafka_broker.sh status DIR            print state; exit 0 if it answers metadata, 3 if not running
#
# Every command is idempotent: fetch skips a complete cache, start on a running broker prints its address,
# stop on a stopped broker only cleans up. Every wait polls a condition under a deadline.
#
# Environment: KAFKA_VERSION (default below), KAFKA_CACHE_ROOT (default <repo>/.cache/kafka),
# KAFKA_START_TIMEOUT / KAFKA_STOP_TIMEOUT (seconds), KAFKA_HEAP_OPTS (default -Xmx512m),
# KAFKA_LOG_LEVEL (broker log level, default INFO), KAFKA_OWNER_PID (if set, a watchdog stops the broker
# when that process is gone, so a test killed with SIGKILL or by a timeout leaves no broker behind).
set -euo pipefail

readonly KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
# The broker logs through slf4j 1.7 (what kafka_2.13 4.1 resolves to); this binding sends that to the
# log4j2 core the broker already depends on, so the log level and file are ours to set.
readonly LOG4J_VERSION="2.24.3"
readonly REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly CACHE_ROOT="${KAFKA_CACHE_ROOT:-${REPO_ROOT}/.cache/kafka}"
readonly JAR_DIR="${CACHE_ROOT}/${KAFKA_VERSION}"
readonly START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
readonly STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-60}"

log() { echo "kafka_broker: $*" >&2; }
die() { log "error: $*"; exit 1; }

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------------------------- fetch
cmd_fetch() {
  if [[ -f "${JAR_DIR}/.complete" ]]; then
    log "jars for Kafka ${KAFKA_VERSION} already cached in ${JAR_DIR}"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (Debian package: maven)"
  command -v java >/dev/null || die "java not found (Debian package: openjdk-17-jre-headless)"
  mkdir -p "${CACHE_ROOT}"
  # Two tests may fetch at once; the lock makes the second one wait and then find the cache complete.
  exec 9>"${CACHE_ROOT}/.lock"
  flock 9
  if [[ -f "${JAR_DIR}/.complete" ]]; then
    exec 9>&-
    return 0
  fi
  local work
  work="$(mktemp -d "${CACHE_ROOT}/fetch.XXXXXX")"
  cat >"${work}/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.bouncestream</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
  local t0
  t0="$(now_ms)"
  log "resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} from Maven Central"
  if ! (cd "${work}" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
          -DoutputDirectory="${work}/jars" >"${work}/mvn.log" 2>&1); then
    cat "${work}/mvn.log" >&2
    rm -rf "${work}"
    die "maven could not resolve the broker jars"
  fi
  [[ -f "${work}/jars/kafka_2.13-${KAFKA_VERSION}.jar" ]] || die "kafka_2.13 jar missing after resolve"
  (cd "${work}/jars" && ls -1 *.jar) >"${work}/jars/.complete"
  rm -rf "${JAR_DIR}"
  mv "${work}/jars" "${JAR_DIR}"
  rm -rf "${work}"
  exec 9>&-
  log "cached $(wc -l <"${JAR_DIR}/.complete") jars in ${JAR_DIR} in $(( $(now_ms) - t0 )) ms"
}

# -------------------------------------------------------------------------------------------- helpers
need_kcat() {
  command -v kcat >/dev/null && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "kcat missing; installing the Debian package"
    apt-get install -y -qq kcat >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq kcat >/dev/null 2>&1; } ||
      die "could not install kcat"
  fi
  command -v kcat >/dev/null || die "kcat not found (Debian package: kcat)"
}

python_bin() {
  local p
  for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && { echo "$p"; return 0; }
  done
  die "python3 not found"
}

# Prints two distinct loopback ports that were free a moment ago (both sockets are held together so the
# kernel cannot hand out the same one twice).
free_ports() {
  "$(python_bin)" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# A Kafka cluster id: 16 random bytes in URL-safe base64 without padding (what StorageTool random-uuid
# prints), made here to save a JVM start. Kafka refuses ids that begin with '-'.
random_cluster_id() {
  "$(python_bin)" -c '
import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

# True if the pid recorded in DIR is alive and is the broker started for DIR (guards against pid reuse).
broker_alive() {
  local dir="$1" pid
  [[ -f "${dir}/kafka.pid" ]] || return 1
  pid="$(<"${dir}/kafka.pid")"
  [[ -n "${pid}" && -r "/proc/${pid}/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q -- "kafka.Kafka ${dir}/server.properties"
}

metadata_answers() {
  kcat -L -b "$1" -m 2 >/dev/null 2>&1
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# ---------------------------------------------------------------------------------------------- start
cmd_start() {
  [[ $# -ge 1 ]] || die "usage: start DIR [key=value ...]"
  local dir
  dir="$(abs_dir "$1")"
  shift
  need_kcat
  if broker_alive "${dir}" && metadata_answers "$(<"${dir}/bootstrap")"; then
    log "broker in ${dir} already running"
    cat "${dir}/bootstrap"
    return 0
  fi
  if broker_alive "${dir}"; then
    # Alive but not answering: a half-started leftover. Start clean rather than guess.
    cmd_stop "${dir}"
  fi
  cmd_fetch

  local t0 port cport
  t0="$(now_ms)"
  read -r port cport < <(free_ports)
  rm -rf "${dir}/data"
  mkdir -p "${dir}/data"
  cat >"${dir}/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dir}/data
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Lets fault tests use short consumer session timeouts so a killed member is noticed quickly.
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
num.partitions=1
EOF
  local kv
  for kv in "$@"; do
    [[ "${kv}" == *=* ]] || die "extra broker property must be key=value: ${kv}"
    echo "${kv}" >>"${dir}/server.properties"
  done
  cat >"${dir}/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${KAFKA_LOG_LEVEL:-INFO}
rootLogger.appenderRef.out.ref = OUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
  echo "${port}" >"${dir}/port"
  echo "${cport}" >"${dir}/controller.port"
  echo "127.0.0.1:${port}" >"${dir}/bootstrap"

  local -a jvm_opts
  read -r -a jvm_opts <<<"${KAFKA_HEAP_OPTS:--Xmx512m}"
  jvm_opts+=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=${dir}/log4j2.properties")

  if ! java "${jvm_opts[@]}" -cp "${JAR_DIR}/*" kafka.tools.StorageTool format \
         -t "$(random_cluster_id)" -c "${dir}/server.properties" >"${dir}/format.log" 2>&1; then
    cat "${dir}/format.log" >&2
    die "StorageTool format failed"
  fi

  # setsid: the broker gets its own session, so a test's Ctrl-C or process-group kill reaches it only
  # through our stop, which waits for it to exit cleanly.
  setsid java "${jvm_opts[@]}" -cp "${JAR_DIR}/*" kafka.Kafka "${dir}/server.properties" \
    >"${dir}/server.log" 2>&1 </dev/null &
  local broker_pid=$!
  echo "${broker_pid}" >"${dir}/kafka.pid"
  if [[ -n "${KAFKA_OWNER_PID:-}" ]]; then
    # Polls once a second for as long as both live; detached so it outlives the caller's process group.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                    kill -TERM "$2" 2>/dev/null
                    for _ in $(seq 300); do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.1; done
                    kill -KILL "$2" 2>/dev/null' watchdog "${KAFKA_OWNER_PID}" "${broker_pid}" \
      >/dev/null 2>&1 </dev/null &
    echo $! >"${dir}/watchdog.pid"
  fi

  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until metadata_answers "127.0.0.1:${port}"; do
    if ! broker_alive "${dir}"; then
      tail -n 40 "${dir}/server.log" >&2 || true
      die "broker exited during startup (log: ${dir}/server.log)"
    fi
    if (( $(date +%s) >= deadline )); then
      tail -n 40 "${dir}/server.log" >&2 || true
      cmd_stop "${dir}"
      die "broker did not answer metadata within ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  local took=$(( $(now_ms) - t0 ))
  echo "${took}" >"${dir}/start_ms"
  log "broker pid $(<"${dir}/kafka.pid") at 127.0.0.1:${port} ready in ${took} ms (dir ${dir})"
  echo "127.0.0.1:${port}"
}

# ----------------------------------------------------------------------------------------------- stop
cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: stop DIR"
  local dir="$1"
  [[ -d "${dir}" ]] || return 0
  dir="$(cd "${dir}" && pwd)"
  if broker_alive "${dir}"; then
    local pid deadline
    pid="$(<"${dir}/kafka.pid")"
    kill -TERM "${pid}" 2>/dev/null || true
    deadline=$(( $(date +%s) + STOP_TIMEOUT ))
    while broker_alive "${dir}" && (( $(date +%s) < deadline )); do
      sleep 0.1
    done
    if broker_alive "${dir}"; then
      log "broker pid ${pid} ignored SIGTERM for ${STOP_TIMEOUT}s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
      deadline=$(( $(date +%s) + 10 ))
      while broker_alive "${dir}" && (( $(date +%s) < deadline )); do
        sleep 0.1
      done
    fi
    broker_alive "${dir}" && die "broker pid ${pid} did not exit"
    log "broker pid ${pid} stopped"
  fi
  if [[ -f "${dir}/watchdog.pid" ]]; then
    kill "$(<"${dir}/watchdog.pid")" 2>/dev/null || true
    rm -f "${dir}/watchdog.pid"
  fi
  rm -f "${dir}/kafka.pid"
  rm -rf "${dir}/data"
}

# --------------------------------------------------------------------------------------------- status
cmd_status() {
  [[ $# -eq 1 ]] || die "usage: status DIR"
  local dir="$1"
  if [[ ! -d "${dir}" ]] || ! broker_alive "$(cd "${dir}" && pwd)"; then
    echo "stopped"
    return 3
  fi
  dir="$(cd "${dir}" && pwd)"
  local addr
  addr="$(<"${dir}/bootstrap")"
  need_kcat
  if metadata_answers "${addr}"; then
    echo "running pid=$(<"${dir}/kafka.pid") bootstrap=${addr}"
    return 0
  fi
  echo "starting-or-stuck pid=$(<"${dir}/kafka.pid") bootstrap=${addr}"
  return 1
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "${cmd}" in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    *) sed -n '5,9p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
