package io.idemlog.bench.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The end-to-end harness, tiny: each mode once, one round, a few thousand records, to prove that it runs, that it
 * produces every figure, and that the fault benchmark finds the log clean with idempotence on. Measures nothing.
 */
class E2eSmokeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void e2eModeProducesEveryFigureAndTheLogGrowsByTheRecordsSent() throws Exception {
        List<String> clients = new ArrayList<>(List.of("idemlog", "kafka"));
        if (Driver.kcatPath() != null) {
            clients.add("kcat");
        }
        int rc = Bench.run("e2e", "--records", "20000", "--warmup", "2000", "--rounds", "1", "--partitions", "2",
            "--clients", String.join(",", clients), "--out", dir.toString(), "--tag", "smoke",
            "--work", dir.resolve("work").toString(), "--server-jvm", "-Xms128m -Xmx256m");
        assertEquals(0, rc);
        List<Map<String, String>> runs = Plots.read(dir.resolve("smoke-runs.csv"));
        assertEquals(clients.size(), runs.size(), "one run per client");
        for (Map<String, String> r : runs) {
            assertTrue(Double.parseDouble(r.get("records_per_s")) > 0, r.toString());
            assertTrue(Double.parseDouble(r.get("mb_per_s")) > 0, r.toString());
            assertTrue(Double.parseDouble(r.get("server_cpu_s")) >= 0, r.toString());
            assertEquals("20000", r.get("logged"), "the log grew by exactly the records sent: " + r);
            assertEquals("0", r.get("failed"), r.toString());
            if (!r.get("client").startsWith("kcat")) {
                assertFalse(r.get("p99_ms").isEmpty(), "in-JVM clients measure latency: " + r);
            }
        }
        assertTrue(Files.readString(dir.resolve("smoke.txt")).contains("records/s"), "the summary table");
        assertTrue(Files.exists(dir.resolve("smoke-throughput-vs-partitions.png")), "the plot");
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void faultModeFindsNoDuplicatesNorLossesWithIdempotenceOn() throws Exception {
        // small batches: many requests, so that 5 % of them means a dozen or more faults in 20,000 records; short
        // timeouts, so that a delayed response costs little
        int rc = Bench.run("faults", "--records", "20000", "--warmup", "2000", "--rounds", "1", "--partitions", "2",
            "--batch-size", "4096", "--rates", "0,0.05", "--kill", "true", "--control", "false", "--direct", "false",
            "--warmup-run", "false", "--request-timeout-ms", "200", "--fault-delay-ms", "300",
            "--out", dir.toString(), "--tag", "smoke", "--work", dir.resolve("work").toString(),
            "--server-jvm", "-Xms128m -Xmx256m");
        assertEquals(0, rc);
        List<Map<String, String>> runs = Plots.read(dir.resolve("smoke-faults.csv"));
        assertEquals(3, runs.size(), "faults 0, faults 5 %, SIGKILL: " + runs);
        long faults = 0;
        for (Map<String, String> r : runs) {
            assertEquals("true", r.get("idempotence"));
            assertEquals("0", r.get("duplicates"), "no duplicates with idempotence on: " + r);
            assertEquals("0", r.get("losses"), "no losses: " + r);
            assertEquals("true", r.get("clean"), r.toString());
            assertEquals("20000", r.get("acked"), r.toString());
            assertTrue(Double.parseDouble(r.get("records_per_s")) > 0, r.toString());
            faults += Long.parseLong(r.get("faults_total"));
        }
        assertTrue(faults > 0, "the proxy injected faults: " + runs);
    }
}
