package io.idemlog.testkit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the FaultProxy and the HistoryChecker with the reference implementation: the official Java producer
 * (kafka-clients 4.x, acks=all) writes 200,000 tagged records through the proxy, with 1% of Produce requests
 * suffering a fault (lost ack + reset, reset mid-request, response delayed past request.timeout.ms, duplicated
 * request), into a real Kafka 4.x broker; the log is then read back with LogReader and checked.
 *
 * <ul>
 *   <li>with enable.idempotence=true: no duplicate, no loss (and no order or offset defect);</li>
 *   <li>the control, enable.idempotence=false with the same seed and retries on: duplicates MUST appear, otherwise
 *       the faults did not bite and the first run proves nothing.</li>
 * </ul>
 * Seed, record count and rate: {@code -Dtestkit.seed=...}, {@code -Dtestkit.records=...},
 * {@code -Dtestkit.faultRate=...}.
 */
@Tag("slow")
@Timeout(300)
class KafkaExactlyOnceUnderFaultsTest {
    private static final long SEED = Long.getLong("testkit.seed", 20_261_122L);
    private static final int RECORDS = Integer.getInteger("testkit.records", 200_000);
    private static final double FAULT_RATE = Double.parseDouble(System.getProperty("testkit.faultRate", "0.01"));
    private static final int PARTITIONS = 4;
    private static final int VALUE_BYTES = 40;
    private static final int REQUEST_TIMEOUT_MS = 1_000;
    private static final Duration DELAY = Duration.ofMillis(REQUEST_TIMEOUT_MS + 500);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // keeps broker.log when a test fails
    static Path dir;
    static KafkaBroker kafka;

    /** What one producer run measured. */
    private record Run(String topic, HistoryReport report, Map<FaultKind, Long> faults, long faultTotal,
                       long produceRequests, int connections, long failedSends, Exception firstFailure,
                       long produceMillis, long checkMillis, String proxy) {
        String describe() {
            return topic + ": " + RECORDS + " records, " + produceRequests + " requests over " + connections
                + " connections, faults " + faults + " (" + faultTotal + "), failed sends " + failedSends
                + (firstFailure == null ? "" : " (first: " + firstFailure + ")") + ", produce " + produceMillis
                + " ms, read+check " + checkMillis + " ms\n" + report.summary() + "\n" + proxy;
        }
    }

    @BeforeAll
    static void startKafka() {
        kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(PARTITIONS).start();
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Properties producerConfig(FaultProxy proxy, boolean idempotent) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, proxy.bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
        props.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 10);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 100);
        // small batches: many Produce requests, so that 1% of them is a fair number of faults
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        return props;
    }

    private Run run(String topic, boolean idempotent) throws IOException {
        kafka.createTopic(topic);
        FaultConfig faults = FaultConfig.builder(SEED).mixed(FAULT_RATE).delay(DELAY).build();
        HistoryChecker checker = new HistoryChecker();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        long start = System.nanoTime();
        Map<FaultKind, Long> injected;
        long requests;
        int connections;
        long faultTotal;
        String proxyState;
        try (FaultProxy proxy = FaultProxy.start(kafka.address(), faults);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(proxy, idempotent),
                 new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                RecordTag tag = new RecordTag(topic, i % PARTITIONS, i);
                checker.sent(tag);
                producer.send(new ProducerRecord<>(topic, tag.partition(), null, tag.encode(VALUE_BYTES)),
                    (metadata, e) -> {
                        if (e == null) {
                            checker.acked(tag, metadata.offset());
                        } else {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e);
                        }
                    });
            }
            producer.flush();
            injected = proxy.counts();
            faultTotal = proxy.totalFaults();
            requests = proxy.requests();
            connections = proxy.connectionsAccepted();
            proxyState = proxy.toString();
        }
        long produced = System.nanoTime();
        try (LogReader reader = new LogReader(kafka.address())) {
            reader.readAll(topic, checker::logged); // straight from the broker, not through the proxy
        }
        HistoryReport report = checker.check();
        Run run = new Run(topic, report, injected, faultTotal, requests, connections, failed.get(),
            firstFailure.get(), (produced - start) / 1_000_000, (System.nanoTime() - produced) / 1_000_000,
            proxyState);
        System.out.println(run.describe());
        return run;
    }

    @Test
    void idempotentProducerWritesEveryAcknowledgedRecordExactlyOnceThroughFaults() throws IOException {
        Run run = run("idempotent", true);
        assertTrue(run.faultTotal() >= 10, "too few faults to prove anything: " + run.describe());
        assertEquals(0, run.report().duplicates(), run.describe());
        assertEquals(0, run.report().losses(), run.describe());
        assertTrue(run.report().isClean(), run.describe());
        assertEquals(0, run.failedSends(), run.describe());
        assertEquals(RECORDS, run.report().acked(), run.describe());
    }

    @Test
    void controlRunWithoutIdempotenceWritesDuplicatesThroughTheSameFaults() throws IOException {
        Run run = run("control", false);
        assertTrue(run.faultTotal() >= 10, "too few faults to prove anything: " + run.describe());
        assertTrue(run.report().duplicates() > 0, "the faults did not cause a single duplicate without "
            + "idempotence, so the idempotent run proves nothing: " + run.describe());
        assertEquals(0, run.report().losses(), "acks=all with retries must not lose: " + run.describe());
    }
}
