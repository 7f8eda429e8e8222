#!/usr/bin/env bash
# The end-to-end benchmark harness (io.idemlog.bench.e2e.Bench). See docs/BENCHMARKS.md.
#
#   jmh/bench.sh e2e    [options]   idemlog server + one client at a time (idemlog producer, kafka-clients, kcat)
#   jmh/bench.sh peer   [options]   idemlog vs a real Apache Kafka broker (4.1.1, or --kafka-version 4.4.0),
#                                   alternating rounds, ratios
#   jmh/bench.sh cluster [options]  a 3-node idemlog cluster vs a 3-broker Kafka cluster (RF=3, acks=all, same
#                                   machine), alternating rounds, ratios (--kafka-version 4.4.0 --rounds 3)
#   jmh/bench.sh faults [options]   duplicate injection: fault proxy + SIGKILL, duplicates and losses counted
#   jmh/bench.sh kcat-faults [opts] kcat without idempotence through the fault proxy, idemlog vs Kafka (KcatFaultBench)
#   jmh/bench.sh plot --tag NAME    PNG charts from docs/benchmarks/NAME-runs.csv / NAME-faults.csv
#   jmh/bench.sh consumer [options] the idempotent consumer: 3 member processes SIGKILLed, database cuts, control,
#                                   records/s per store (io.idemlog.bench.consumer.ConsumerBench; --help)
#   jmh/bench.sh restarts [events] [kills]  restarted producers with de-duplication keys: 0 duplicates, 0 losses;
#                                   control without: the re-sent records stored again (RestartDedupTest)
#   jmh/bench.sh groups [--rounds N] [--round-seconds S]  the group coordinator: rebalance time for 3 and 20 members,
#                                   produce p99 during a 20-member rebalance storm vs without (io.idemlog.bench.group)
#   jmh/bench.sh --help             every option
#
# Output: docs/benchmarks/<tag>.txt (everything printed), <tag>-runs.csv / <tag>-summary.csv or <tag>-faults.csv,
# <tag>-*.png. Builds the jmh module first when its classes or class path file are missing; after changing code,
# rebuild: ./mvnw -q -B -pl jmh -am package -DskipTests (never install).
set -euo pipefail
cd "$(dirname "$0")/.."

CP_FILE=jmh/target/e2e-classpath.txt
if [ ! -f "$CP_FILE" ] || [ ! -f jmh/target/classes/io/idemlog/bench/e2e/Bench.class ] \
    || [ ! -f jmh/target/classes/io/idemlog/bench/consumer/ConsumerBench.class ] \
    || [ ! -f jmh/target/classes/io/idemlog/bench/group/GroupBench.class ]; then
    echo "bench: building the jmh module (./mvnw -q -B -pl jmh -am package -DskipTests)" >&2
    ./mvnw -q -B -pl jmh -am package -DskipTests
fi

# Run from a snapshot of this worktree's classes and module jars: a rebuild during a long run must not change the
# code under test (the fault benchmark starts a new server JVM for every run, from these jars).
SNAP=$(mktemp -d /tmp/idemlog-bench-cp.XXXXXX)
trap 'rm -rf "$SNAP"' EXIT
cp -r jmh/target/classes "$SNAP/classes"
CP="$SNAP/classes"
IFS=":" read -r -a JARS < "$CP_FILE" || true  # no final newline: read returns 1
for j in "${JARS[@]}"; do
    case "$j" in
        "$PWD"/*) mkdir -p "$SNAP/jars"; cp "$j" "$SNAP/jars/"; CP="$CP:$SNAP/jars/$(basename "$j")" ;;
        *) CP="$CP:$j" ;;
    esac
done

# The restarted-producer duplicate injection (issue 11, docs/DEDUP.md): the suite's RestartDedupTest at full size.
#   jmh/bench.sh restarts [events] [kills]   default 1,000,000 events, 10 application SIGKILLs per run
if [ "${1:-}" = "restarts" ]; then
    EVENTS=${2:-1000000}
    KILLS=${3:-10}
    mkdir -p docs/benchmarks
    ./mvnw -B -q -pl testkit -am test -Dtest=RestartDedupTest -Dsurefire.failIfNoSpecifiedTests=false \
        -Drestarts.events="$EVENTS" -Drestarts.kills="$KILLS"
    TAG="restarts-$(date -u +%Y-%m-%d)"
    grep -h -A2 "^restarts " testkit/target/surefire-reports/io.idemlog.restarts.RestartDedupTest-output.txt \
        | tee "docs/benchmarks/$TAG.txt"
    exec "$0" plot --tag "$TAG"
fi

# The harness JVM hosts the in-JVM producers (idemlog's and kafka-clients', one at a time), the fault proxy and
# the history checker; the servers run in their own JVMs (--server-jvm).
MAIN=io.idemlog.bench.e2e.Bench
if [ "${1:-}" = "consumer" ]; then
    MAIN=io.idemlog.bench.consumer.ConsumerBench
    shift
fi
if [ "${1:-}" = "groups" ]; then
    MAIN=io.idemlog.bench.group.GroupBench   # the group coordinator: rebalance times, produce p99 during a storm
    shift
fi
# --kafka-version V (peer): a Kafka broker of another version than the project's own. Its jars are resolved once
# from Maven Central (jmh/kafka-broker-classpath.xml) into a class path file the harness reads (--kafka-classpath).
ARGS=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--kafka-version" ] && [ $# -ge 2 ]; then
        KCP="jmh/target/kafka-broker-$2.classpath"
        if [ ! -s "$KCP" ]; then
            ./mvnw -q -B -f jmh/kafka-broker-classpath.xml dependency:build-classpath -Dkafka.version="$2" \
                -Dmdep.outputFile="$PWD/$KCP" >&2
        fi
        ARGS+=(--kafka-classpath "$KCP")
        shift 2
    else
        ARGS+=("$1")
        shift
    fi
done
java -Xms1g -Xmx4g -XX:+UseG1GC -Djava.awt.headless=true -Dlogback.configurationFile=jmh/bench-logback.xml \
    -cp "$CP" "$MAIN" ${ARGS[@]+"${ARGS[@]}"}
