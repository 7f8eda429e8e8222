package io.idemlog.bench.consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The consumer duplicate-injection benchmark, tiny, on both targets: member SIGKILLs and a database cut, the
 * transactional mode exactly once and the control with duplicate effects (the run's exit code checks both: 3 if the
 * transactional mode is not exact, 4 if a control shows no duplicate), every figure written. Measures nothing.
 */
class ConsumerBenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void transactionalModeIsExactWhileTheControlDuplicatesUnderTheSameFaults() throws Exception {
        int rc = ConsumerBench.run("--targets", "kafka,idemlog", "--records", "1500", "--kills", "2",
            "--kill-interval-ms", "1000", "--cuts", "1", "--cut-down-ms", "500", "--throughput-records", "300",
            "--stores", "memory,pg-tx", "--out", dir.toString(), "--tag", "smoke", "--work",
            dir.resolve("work").toString(), "--timeout-s", "200");
        assertEquals(0, rc, Files.readString(dir.resolve("smoke.txt")));
        List<String> faults = Files.readAllLines(dir.resolve("smoke-faults.csv"));
        assertEquals(5, faults.size(), "header + kafka/idemlog x tx/control: " + faults);
        for (String line : faults.subList(1, faults.size())) {
            String[] f = line.split(",");
            // A member is killed only after progress since the previous kill, and a run ends when every record is
            // done: on a fast machine the control (less work per record) can finish 1,500 records after one kill.
            // One kill plus the cut is enough for a smoke pass; the control's duplicates below prove they bit.
            assertTrue(Integer.parseInt(f[10]) >= 1, "kills: " + line);
            if (f[1].equals("tx")) {
                assertEquals("true", f[9], "exactly once: " + line);
                assertEquals("0", f[6], line);
            } else {
                assertTrue(Long.parseLong(f[6]) > 0, "the control's faults create duplicate effects: " + line);
            }
        }
        assertEquals(5, Files.readAllLines(dir.resolve("smoke-throughput.csv")).size());
        assertTrue(Files.exists(dir.resolve("smoke-throughput.png")));
        assertTrue(Files.exists(dir.resolve("smoke-faults.png")));
    }

    /** The same with 50 records per database transaction (--batch-size), on idemlog; throughput per batch size. */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void batchedTransactionalModeIsExactUnderSigkillsAndACut() throws Exception {
        int rc = ConsumerBench.run("--targets", "idemlog", "--records", "3000", "--kills", "2",
            "--kill-interval-ms", "1000", "--cuts", "1", "--cut-down-ms", "500", "--batch-size", "50",
            "--throughput-records", "300", "--stores", "pg-tx", "--batch-sizes", "1,50", "--out", dir.toString(),
            "--tag", "batch", "--work", dir.resolve("work").toString(), "--timeout-s", "200");
        assertEquals(0, rc, Files.readString(dir.resolve("batch.txt")));
        List<String> faults = Files.readAllLines(dir.resolve("batch-faults.csv"));
        assertEquals(3, faults.size(), "header + idemlog tx/control: " + faults);
        for (String line : faults.subList(1, faults.size())) {
            String[] f = line.split(",");
            assertTrue(Integer.parseInt(f[10]) >= 1, "kills: " + line);
            if (f[1].equals("tx")) {
                assertEquals("true", f[9], "exactly once: " + line);
                assertEquals("0", f[6], line);
            }
        }
        List<String> speeds = Files.readAllLines(dir.resolve("batch-throughput.csv"));
        assertEquals(List.of("pg-tx-b1", "pg-tx-b50"), speeds.subList(1, speeds.size()).stream()
            .map(l -> l.split(",")[1]).toList());
    }
}
