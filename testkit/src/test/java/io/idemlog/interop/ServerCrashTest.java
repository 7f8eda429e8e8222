package io.idemlog.interop;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.HistoryReport;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.RecordTag;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server, in its own JVM, is killed with SIGKILL several times while a kafka-clients producer writes (acks=all,
 * a delivery timeout long enough to ride out the restarts). After the last restart every acknowledged record must
 * be in the log exactly once and in per-partition order. The control run — same kills, idempotence off — must
 * show duplicates, or the test would prove nothing.
 */
@Tag("slow")
class ServerCrashTest {
    private static final int RECORDS = Integer.getInteger("crash.records", 300_000);
    private static final int PARTITIONS = 4;
    private static final int KILLS = Integer.getInteger("crash.kills", 4);

    @TempDir
    Path dir;

    /** What one run observed. */
    record Outcome(HistoryReport report, long acked, long failed, int kills, long millis) {
    }

    private Outcome run(boolean idempotence) throws IOException {
        String topic = "crash";
        String label = idempotence ? "idem" : "control";
        try (ServerProcess server = ServerProcess.builder(dir.resolve(label))
            .override("create.topics", topic + ":" + PARTITIONS)
            .logFile(dir.resolve(label + "-server.log"))
            .start()) {
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, String.valueOf(idempotence));
            pp.put(ProducerConfig.RETRIES_CONFIG, String.valueOf(Integer.MAX_VALUE));
            pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "16384");
            pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
            pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            pp.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
            pp.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, "20");
            pp.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            pp.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(64L << 20));
            HistoryChecker checker = new HistoryChecker();
            AtomicLong acked = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            long t0 = System.nanoTime();
            int kills = 0;
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                new ByteArraySerializer())) {
                for (int i = 0; i < RECORDS; i++) {
                    RecordTag tag = new RecordTag(label, i % PARTITIONS, i);
                    checker.sent(tag);
                    producer.send(new ProducerRecord<>(topic, tag.partition(), null, tag.encode(100)), (md, e) -> {
                        if (e == null) {
                            checker.acked(tag, md.offset());
                            acked.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                        }
                    });
                    // Kill while records are in flight: at evenly spaced fractions of the acknowledged count.
                    if (kills < KILLS && i % 1000 == 999 && acked.get() >= (long) RECORDS * (kills + 1) / (KILLS + 2)) {
                        server.kill();
                        server.restart();
                        kills++;
                    }
                }
                while (kills < KILLS) {
                    long target = (long) RECORDS * (kills + 1) / (KILLS + 2);
                    Await.until("acked >= " + target, Duration.ofSeconds(120),
                        () -> acked.get() >= target || acked.get() + failed.get() >= RECORDS);
                    if (acked.get() + failed.get() >= RECORDS) {
                        break;
                    }
                    server.kill();
                    server.restart();
                    kills++;
                }
                producer.flush();
            }
            try (LogReader reader = new LogReader(server.address())) {
                reader.readAll(topic, checker::logged);
            }
            return new Outcome(checker.check(), acked.get(), failed.get(), kills,
                (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void everyAcknowledgedRecordSurvivesRepeatedSigkillExactlyOnceAndInOrder() throws IOException {
        Outcome idem = run(true);
        System.out.println("idempotent: kills=" + idem.kills() + " acked=" + idem.acked() + " failed="
            + idem.failed() + " in " + idem.millis() + " ms; " + idem.report().summary());
        assertTrue(idem.kills() >= 3, "the server must die at least 3 times mid-stream, died " + idem.kills());
        assertEquals(RECORDS, idem.acked(), "the delivery timeout rides out the restarts: every send acknowledged");
        assertTrue(idem.report().isClean(), idem.report().summary());

        Outcome control = run(false);
        System.out.println("control (idempotence off): kills=" + control.kills() + " acked=" + control.acked()
            + " in " + control.millis() + " ms; " + control.report().summary());
        assertTrue(control.kills() >= 3, "control died " + control.kills() + " times");
        assertTrue(control.report().duplicates() > 0,
            "the same faults without idempotence must write duplicates, or this test proves nothing: "
                + control.report().summary());
    }
}
