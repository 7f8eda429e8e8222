#!/usr/bin/env bash
# Coverage-guided fuzzing of idemlog's decoders and loaders with Jazzer (libFuzzer for the JVM).
#
#   tools/fuzz.sh TARGET                fuzz one target for 10 minutes (the @FuzzTest maxDuration of each target)
#   tools/fuzz.sh all                   every target, one after the other (80 minutes)
#   tools/fuzz.sh list                  the targets
#
# The normal build (./mvnw verify) runs each target's committed corpus as regression tests, without fuzzing.
# Here JAZZER_FUZZ=1 makes the one selected @FuzzTest fuzz: new coverage-increasing inputs go to <module>/.cifuzz-corpus
# (not committed), a crashing input is written next to the committed corpus
# (<module>/src/test/resources/<package>/<Class>Inputs/<method>/crash-*) and fails the run: fix the code, give the
# crash file a name that says what it found, and commit it, so that the normal build keeps it as a regression test.
# At the end this prints the run's last libFuzzer status line (executions, coverage, features) per target.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A TARGETS=(
    [requestFrame]="common io.idemlog.common.fuzz.RequestDecoderFuzzTest#requestFrame"
    [requestBody]="common io.idemlog.common.fuzz.RequestDecoderFuzzTest#requestBody"
    [recordBatch]="common io.idemlog.common.fuzz.RecordBatchFuzzTest#recordBatch"
    [append]="log-server io.idemlog.server.log.ProduceAppendFuzzTest#append"
    [snapshotLoad]="log-server io.idemlog.server.state.SnapshotLoadFuzzTest#load"
    [damagedIndex]="log-server io.idemlog.server.log.DataDirFuzzTest#damagedIndex"
    [damagedSnapshot]="log-server io.idemlog.server.log.DataDirFuzzTest#damagedSnapshot"
    [damagedSegment]="log-server io.idemlog.server.log.DataDirFuzzTest#damagedSegment"
)
ORDER=(requestFrame requestBody recordBatch append snapshotLoad damagedIndex damagedSnapshot damagedSegment)

target="${1:-}"
# Jazzer takes the duration from the annotation only (no system property overrides it): to fuzz longer or shorter,
# change maxDuration in the target's @FuzzTest.
duration="10m"
if [ -z "$target" ] || [ "$target" = "list" ]; then
    printf '%s\n' "${ORDER[@]}"
    exit 0
fi

fuzz_one() {
    local name="$1" module test class report
    read -r module test <<<"${TARGETS[$name]}"
    class="${test%%#*}"
    echo "== fuzzing $name ($test) for $duration"
    local status=0
    JAZZER_FUZZ=1 ./mvnw -B -q -pl "$module" -am -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
        test || status=$?
    report="$module/target/surefire-reports/$class-output.txt"
    if [ -f "$report" ]; then
        echo "-- $name: last status line:"
        grep -E '^#[0-9]+' "$report" | tail -1 || true
        grep -E 'DONE|Done [0-9]+ runs' "$report" | tail -1 || true
    fi
    return $status
}

if [ "$target" = "all" ]; then
    failed=0
    for t in "${ORDER[@]}"; do
        fuzz_one "$t" || failed=1
    done
    exit $failed
fi
if [ -z "${TARGETS[$target]:-}" ]; then
    echo "unknown target $target; targets: ${ORDER[*]}" >&2
    exit 2
fi
fuzz_one "$target"
