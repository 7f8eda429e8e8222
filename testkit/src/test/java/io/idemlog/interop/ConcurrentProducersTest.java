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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many idempotent producers at once, on connections spread over the server's network threads, all writing every
 * partition (acks=all and acks=1 mixed): appends to one partition then race between threads, and group commits run
 * on several threads at once. Every producer's records must be in the log exactly once, in its send order, at the
 * offsets it was told. Once with each {@code log.flush.thread}: the network threads fsync at the end of their read
 * bursts, or the flusher thread fsyncs while they go on reading, or (auto) each burst chooses by its partitions.
 */
@Tag("slow")
class ConcurrentProducersTest {
    private static final int PRODUCERS = 6;
    private static final int RECORDS_EACH = Integer.getInteger("concurrent.records", 40_000);
    private static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "log.flush.thread={0}")
    @ValueSource(strings = {"network", "flusher", "auto"})
    void concurrentIdempotentProducersEachLandExactlyOnceInOrder(String flushThread) throws Exception {
        String topic = "shared";
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", topic + ":" + PARTITIONS)
            .override("num.network.threads", "2")
            .override("log.flush.thread", flushThread)
            .logFile(dir.resolve("server.log"))
            .start()) {
            HistoryChecker checker = new HistoryChecker();
            AtomicLong failed = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
            List<Future<?>> runs = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                String label = "p" + p;
                String acks = p % 3 == 2 ? "1" : "all";
                runs.add(pool.submit(() -> {
                    Properties pp = new Properties();
                    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
                    pp.put(ProducerConfig.ACKS_CONFIG, acks);
                    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, String.valueOf(acks.equals("all")));
                    pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, acks.equals("all") ? "5" : "1");
                    pp.put(ProducerConfig.LINGER_MS_CONFIG, "2");
                    pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "8192");
                    pp.put(ProducerConfig.CLIENT_ID_CONFIG, label);
                    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                        new ByteArraySerializer())) {
                        for (int i = 0; i < RECORDS_EACH; i++) {
                            RecordTag tag = new RecordTag(label, i % PARTITIONS, i);
                            checker.sent(tag);
                            producer.send(new ProducerRecord<>(topic, tag.partition(), null, tag.encode(60)),
                                (md, e) -> {
                                    if (e == null) {
                                        checker.acked(tag, md.offset());
                                    } else {
                                        failed.incrementAndGet();
                                    }
                                });
                        }
                        producer.flush();
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get(300, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            assertEquals(0, failed.get(), "no send failed");
            try (LogReader reader = new LogReader(server.address())) {
                // An acks=1 send is answered before its record is durable, and a reader sees only durable records
                // (the high watermark is the fsync'd end): wait, bounded, until every partition's end reaches what
                // was sent, then read. A lost record still fails: the wait times out, or the count below is short.
                long[] expected = new long[PARTITIONS];
                for (int i = 0; i < RECORDS_EACH; i++) {
                    expected[i % PARTITIONS] += PRODUCERS;
                }
                for (int p = 0; p < PARTITIONS; p++) {
                    int partition = p;
                    Await.until(() -> topic + "-" + partition + " to end at offset " + expected[partition]
                            + " (it ends at " + latest(reader, topic, partition) + ")", Duration.ofSeconds(60),
                        () -> latest(reader, topic, partition) >= expected[partition]);
                }
                assertEquals((long) PRODUCERS * RECORDS_EACH, reader.readAll(topic, checker::logged));
            }
            HistoryReport report = checker.check();
            assertTrue(report.isClean(), report.summary() + "\n" + server.logTail(3000));
            System.out.println("concurrent producers: " + report.summary());
        }
    }

    /** The partition's end as a reader sees it (the high watermark). */
    private static long latest(LogReader reader, String topic, int partition) {
        try {
            return reader.offsets(topic, partition).latest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
