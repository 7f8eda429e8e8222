#!/usr/bin/env bash
# SPIKE driver: replication-spike/run.sh <command> [--option=value ...] [raft.key=value ...]
# Builds nothing: run `./mvnw -B -q -P replication-spike -pl replication-spike -am -DskipTests package` first.
# Every figure in docs/REPLICATION.md names the command line that produced it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cp="$here/target/classes:$(cat "$here/target/spike-classpath.txt")"
exec java -Xmx1g -XX:+UseG1GC -Dlogback.configurationFile=spike-logback.xml -cp "$cp" \
    io.idemlog.spike.ratis.SpikeBench "$@"
