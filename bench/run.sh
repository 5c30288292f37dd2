#!/usr/bin/env bash
# Lovage's benchmarks, side by side with raw RabbitMQ (PerfTest) and Python Celery 5.2, on this
# machine, in one run (see docs/benchmarks.md):
#
#   bench/run.sh           the full profile (about 22 minutes on 2 cores, the cluster workload included)
#   bench/run.sh --quick   the quick profile (about 8 minutes)
#   bench/run.sh --ci      every row at smaller sizes (about 2 minutes less; CI runs it)
#   bench/run.sh --quick --only noop,perftest   some workloads only (results go to history/ only)
#
# Starts what it needs: the local RabbitMQ if it is not running (and RABBITMQ_URI is not set),
# Lovage workers and producer from their jars, Celery workers, Redis, PerfTest, wrk, the cluster of
# .ci/rabbitmq-cluster. Stops all it started, also on Ctrl-C or failure, and deletes the queues it
# used. Prints a markdown table and writes bench/results/latest.{md,json,png}. Exits non-zero if a
# row could not be measured; never because of speed.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

profile=full
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) profile=quick ;;
    --full) profile=full ;;
    --ci) profile=ci ;;
    --only) extra+=(--only "$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }

step "Choosing a JDK >= 21"
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_major "$JAVA_HOME")" -lt 21 ] 2>/dev/null; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 /usr/lib/jvm/*; do
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate")" -ge 21 ] 2>/dev/null; then
      JAVA_HOME="$candidate"
      break
    fi
  done
fi
if [ -z "$JAVA_HOME" ]; then
  echo "No JDK >= 21 under /usr/lib/jvm; install one (e.g. apt-get install openjdk-21-jdk) or set JAVA_HOME" >&2
  exit 1
fi
export JAVA_HOME
echo "JAVA_HOME=$JAVA_HOME ($(java_major "$JAVA_HOME"))"

step "Checking RabbitMQ, wrk, Python Celery, Redis and fonts for the chart"
packages=()
[ -n "${RABBITMQ_URI:-}" ] || command -v rabbitmq-server >/dev/null || packages+=(rabbitmq-server)
command -v wrk >/dev/null || packages+=(wrk)
/usr/bin/python3 -c 'import celery' 2>/dev/null || packages+=(python3-celery)
# Celery's result backend in the workflow rows (its rpc:// backend cannot join a chord).
[ -x /usr/bin/redis-server ] || packages+=(redis-server)
/usr/bin/python3 -c 'import redis' 2>/dev/null || packages+=(python3-redis)
command -v fc-list >/dev/null || packages+=(fontconfig fonts-dejavu-core)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "missing: ${packages[*]}; install them, e.g. sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
fi

# The OS pid of the RabbitMQ node this script started, if it started one.
started_rabbitmq=""
node_pid() { rabbitmqctl -q eval 'os:getpid().' 2>/dev/null | tr -d '"'; }
cleanup() {
  # Only the node this script started: if something else restarted RabbitMQ meanwhile, that
  # node is not ours to stop.
  if [ -n "$started_rabbitmq" ] && [ "$(node_pid)" = "$started_rabbitmq" ]; then
    echo "stopping the RabbitMQ this script started"
    rabbitmqctl -q stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
# Ctrl-C reaches the bench JVM too, whose shutdown hook stops its processes; then cleanup runs.
trap 'exit 130' INT TERM

await_broker() {
  # `rabbitmq-server -detached` returns before the Erlang node has registered, and
  # `await_startup` fails at once against a node that is not registered yet: poll until it answers.
  local deadline=$((SECONDS + 120))
  until rabbitmqctl -q await_startup >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "RabbitMQ did not start within 120 s" >&2
      exit 1
    fi
    sleep 1
  done
}

if [ -z "${RABBITMQ_URI:-}" ]; then
  step "RabbitMQ on this machine"
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    # A node being restarted by someone else answers again within seconds: give it the chance
    # before starting a second one.
    sleep 5
  fi
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting RabbitMQ (it will be stopped again at the end)"
    rabbitmq-server -detached
    await_broker
    started_rabbitmq="$(node_pid)"
  fi
  await_broker
  export RABBITMQ_URI='amqp://guest:guest@localhost:5672/%2F'
fi
echo "RABBITMQ_URI=${RABBITMQ_URI//:*@/://***@}"

if [ ! -f worker/target/lovage-worker.jar ] || [ ! -f producer/target/lovage-producer.jar ] \
   || [ ! -f bench/target/lovage-bench.jar ] || [ ! -d bench/target/tools/perf-test ] \
   || [ ! -f bench/jmh/target/lovage-jmh.jar ]; then
  step "Building the jars: ./mvnw -DskipTests package"
  ./mvnw -B -ntp -q -DskipTests package
fi

step "Running the $profile profile"
"$JAVA_HOME/bin/java" -jar bench/target/lovage-bench.jar --profile "$profile" ${extra[@]+"${extra[@]}"}
