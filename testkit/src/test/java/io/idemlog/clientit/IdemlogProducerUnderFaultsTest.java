package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.testkit.Await;
import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultKind;
import io.idemlog.testkit.FaultProxy;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.HistoryReport;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * idemlog's producer through the fault-injecting proxy into an idemlog server: dropped answers (the connection then
 * reset), connections reset mid-request, answers delayed past request.timeout.ms, duplicated requests — and the
 * server killed with SIGKILL and restarted twice during the run. Seeded (-Dclientit.seed=...). With idempotence:
 * every record exactly once, in order, at the reported offset. The control run, the same faults with idempotence
 * off, must write duplicates, or the first run proves nothing.
 */
@Tag("slow")
@Timeout(600)
class IdemlogProducerUnderFaultsTest {
    private static final long SEED = Long.getLong("clientit.seed", 424_242L);
    private static final int RECORDS = Integer.getInteger("clientit.faultRecords", 1_000_000);
    private static final double FAULT_RATE = Double.parseDouble(System.getProperty("clientit.faultRate", "0.03"));
    private static final int PARTITIONS = 4;
    private static final int VALUE_BYTES = 60;
    private static final int KILLS = 2;
    private static final int REQUEST_TIMEOUT_MS = 1_000;

    @TempDir
    Path dir;

    /** What one run observed. */
    record Outcome(HistoryReport report, ClientRuns.Produced produced, Map<FaultKind, Long> faults, long requests,
                   int kills, String proxy) {
        String describe() {
            return "faults " + faults + " over " + requests + " requests, " + kills + " SIGKILLs, acked "
                + produced.acked() + ", failed " + produced.failed() + " (first: " + produced.firstFailure()
                + "), produce " + produced.millis() + " ms\n" + report.summary() + "\n" + proxy;
        }
    }

    private Outcome run(boolean idempotent) throws IOException {
        String label = idempotent ? "idem" : "control";
        String topic = "faults";
        try (ServerProcess server = ServerProcess.builder(dir.resolve(label))
            .override("create.topics", topic + ":" + PARTITIONS)
            .logFile(dir.resolve(label + "-server.log"))
            .start();
             FaultProxy proxy = FaultProxy.start(server.address(), FaultConfig.builder(SEED).mixed(FAULT_RATE)
                 .delay(Duration.ofMillis(REQUEST_TIMEOUT_MS + 500)).build())) {
            Properties props = ClientRuns.config(proxy.bootstrap(), idempotent);
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS, String.valueOf(REQUEST_TIMEOUT_MS));
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS, "300000");
            props.put(ProducerConfig.RETRY_BACKOFF_MS, "20");
            // 16 KiB batches: many requests, so that the fault rate makes a fair number of faults
            props.put(ProducerConfig.BATCH_SIZE, "16384");
            props.put(ProducerConfig.LINGER_MS, "2");
            HistoryChecker checker = new HistoryChecker();
            AtomicLong acked = new AtomicLong();
            int[] kills = {0};
            ClientRuns.Produced produced;
            try (IdemlogProducer producer = IdemlogProducer.create(props)) {
                produced = ClientRuns.produce(producer, topic, PARTITIONS, RECORDS, VALUE_BYTES, label, checker,
                    acked, i -> {
                        // kill while records are in flight, at evenly spaced fractions of what is acknowledged
                        if (kills[0] < KILLS && i % 1000 == 999
                            && acked.get() >= (long) RECORDS * (kills[0] + 1) / (KILLS + 2)) {
                            server.kill();
                            server.restart();
                            kills[0]++;
                        }
                    });
                while (kills[0] < KILLS && acked.get() < RECORDS) {
                    // the sends went out faster than the acknowledgements: kill during the tail
                    long target = acked.get() + Math.max(1, (RECORDS - acked.get()) / 4);
                    Await.until("acked >= " + target, Duration.ofSeconds(120),
                        () -> acked.get() >= target || acked.get() >= RECORDS);
                    server.kill();
                    server.restart();
                    kills[0]++;
                }
                producer.flush();
            }
            try (LogReader reader = new LogReader(server.address())) {
                reader.readAll(topic, checker::logged);
            }
            Outcome outcome = new Outcome(checker.check(), produced, proxy.counts(), proxy.requests(), kills[0],
                proxy.toString());
            System.out.println((idempotent ? "idempotent: " : "control: ") + outcome.describe());
            return outcome;
        }
    }

    @Test
    void everyRecordLandsExactlyOnceThroughFaultsAndSigkillsAndTheControlDuplicates() throws IOException {
        Outcome idem = run(true);
        assertTrue(idem.kills() >= KILLS, idem.describe());
        assertTrue(idem.faults().values().stream().mapToLong(Long::longValue).sum() >= 20,
            "too few faults to prove anything: " + idem.describe());
        assertEquals(0, idem.produced().failed(), idem.describe());
        assertEquals(RECORDS, idem.produced().acked(), idem.describe());
        assertEquals(0, idem.report().duplicates(), idem.describe());
        assertEquals(0, idem.report().losses(), idem.describe());
        assertTrue(idem.report().isClean(), idem.describe());

        Outcome control = run(false);
        assertTrue(control.kills() >= KILLS, control.describe());
        assertTrue(control.report().duplicates() > 0, "the same faults without idempotence wrote no duplicate, so "
            + "the idempotent run proves nothing: " + control.describe());
    }
}
