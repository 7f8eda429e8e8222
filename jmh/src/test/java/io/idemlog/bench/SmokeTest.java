package io.idemlog.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every benchmark, with every combination of its parameters, for a moment, so that a change in the code they
 * measure cannot leave a benchmark broken until someone next wants a number from it. Each benchmark's setUp also
 * checks that it measures the path it claims to (a valid batch, a fully decoded request), so a benchmark that
 * silently times an error path fails here too. JMH's output is in target/surefire-reports.
 */
class SmokeTest {
    @Test
    void everyBenchmarkRunsAndProducesAScore() throws Exception {
        Smoke.Report report = Smoke.run(new OptionsBuilder().build());
        System.out.println(report);
        assertTrue(report.ok(), report::toString);
    }
}
