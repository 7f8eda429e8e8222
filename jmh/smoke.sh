#!/usr/bin/env bash
# Quick smoke pass of every JMH benchmark (every parameter combination, 1 x 100 ms warm-up + 1 x 100 ms measurement,
# in-process), then one forked run through the jar's own entry point, as real runs use it. Exits non-zero when any
# benchmark fails to produce a score. Measures nothing: see docs/BENCHMARKS.md for real runs.
#
#   jmh/smoke.sh                      everything (~30 s on 2 cores)
#   jmh/smoke.sh 'Crc32c' -p buffer=HEAP   any JMH options: a regexp, -p to narrow a matrix, -f 1 to fork
#
# Uses jmh/target/benchmarks.jar, building it first when missing. After changing code, rebuild it
# (./mvnw -B -q -pl jmh -am package -DskipTests) or run the same smoke pass through Maven: ./mvnw -B -pl jmh -am test
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=jmh/target/benchmarks.jar
if [ ! -f "$JAR" ]; then
    echo "smoke: $JAR missing, building it"
    ./mvnw -B -q -pl jmh -am package -DskipTests
fi

# The smoke pass measures nothing, so it neither waits for nor fails on the JMH lock of someone's real run.
java -Djmh.ignoreLock=true -cp "$JAR" io.idemlog.bench.Smoke "$@"

# In-process runs skip what real runs depend on: the jar's Main, its BenchmarkList, and forking a JVM from it.
echo "smoke: one forked run through java -jar $JAR"
java -Djmh.ignoreLock=true -jar "$JAR" -foe true -f 1 -wi 1 -i 1 -w 100ms -r 100ms -p buffer=HEAP \
    'io.idemlog.bench.record.Crc32cBenchmark.crc1KiB' > /dev/null \
    || { echo "SMOKE FAILED: the forked run through java -jar $JAR failed (rerun it without > /dev/null)"; exit 1; }
echo "smoke: forked run OK"
