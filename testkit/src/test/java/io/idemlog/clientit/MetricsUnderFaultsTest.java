package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.IdemlogProducerMetrics;
import io.idemlog.client.ProducerConfig;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultKind;
import io.idemlog.testkit.FaultProxy;
import io.idemlog.testkit.MetricsScrape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's Prometheus endpoint against a real produce run: the idemlog producer (idempotent, one request in
 * flight) through a proxy that drops a tenth of the Produce answers (the server appended the batch; the producer
 * reconnects and sends it again, and the server answers the retry as a duplicate). The endpoint is scraped mid-run
 * and at the end, and its counters are checked against the run exactly: every record appended once
 * ({@code records} = records sent), every batch send answered once ({@code appended + duplicate} = the producer's
 * batch sends, its Produce requests = the server's), every retry answered as a duplicate (duplicates = the
 * producer's retries, at least one per dropped answer). The dropped answers are the control: without them the
 * duplicate counter would have nothing to count, and the test asserts that it counted something.
 */
@Timeout(180)
class MetricsUnderFaultsTest {
    private static final int RECORDS = 4_000;
    private static final String TOPIC = "mf";

    @TempDir
    Path dir;

    @Test
    void shouldCountARunWithDroppedAnswersExactly() throws Exception {
        try (IdemlogServer server = IdemlogServer.start(ServerConfig.of(Map.of(
                 "listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString(), "create.topics", TOPIC + ":2",
                 "metrics.listener", "http://127.0.0.1:0", "metrics.jmx.enable", "false",
                 "metrics.log.interval.ms", "0")),
                 (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
             FaultProxy proxy = FaultProxy.start(new java.net.InetSocketAddress("127.0.0.1", server.port()),
                 FaultConfig.builder(20_261_202L).rate(FaultKind.DROP_RESPONSE, 0.1).build())) {
            int port = server.metricsService().port();
            SimpleMeterRegistry clientRegistry = new SimpleMeterRegistry();
            long batchesSent;
            long batchesRetried;
            long requestsSent;
            try (IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                     .bootstrapServers(proxy.bootstrap()).maxInFlightRequestsPerConnection(1).lingerMs(1)
                     .batchSize(1024).requestTimeoutMs(15_000).deliveryTimeoutMs(120_000).retryBackoffMs(10)
                     .reconnectBackoffMs(10).clientId("metrics-faults").build());
                 IdemlogProducerMetrics meters = new IdemlogProducerMetrics(producer)) {
                meters.bindTo(clientRegistry);
                AtomicLong acked = new AtomicLong();
                AtomicReference<Exception> failure = new AtomicReference<>();
                CountDownLatch half = new CountDownLatch(RECORDS / 2);
                CountDownLatch all = new CountDownLatch(RECORDS);
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(TOPIC, i % 2, null, ("record-" + i + "-0123456789").getBytes(), null, (md, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        } else {
                            acked.incrementAndGet();
                        }
                        half.countDown();
                        all.countDown();
                    });
                }
                assertTrue(half.await(120, TimeUnit.SECONDS), "half the records acknowledged");
                long ackedBefore = acked.get();
                MetricsScrape mid = MetricsScrape.of(port);
                double midRecords = mid.value("idemlog_produce_records_total", "topic", TOPIC);
                assertTrue(midRecords >= ackedBefore && midRecords <= RECORDS,
                    "mid-run: " + midRecords + " records appended, " + ackedBefore + " acknowledged before");
                assertTrue(all.await(120, TimeUnit.SECONDS), "every record acknowledged");
                assertNull(failure.get());
                producer.flush();
                batchesSent = producer.metrics().batchesSent();
                batchesRetried = producer.metrics().batchesRetried();
                requestsSent = producer.metrics().requestsSent();
                assertEquals(RECORDS, clientRegistry.get("idemlog.producer.records.sent").functionCounter().count());
                assertEquals(batchesRetried,
                    clientRegistry.get("idemlog.producer.batches.retried").functionCounter().count());
            }
            long drops = proxy.count(FaultKind.DROP_RESPONSE);
            MetricsScrape end = MetricsScrape.of(port);
            assertEquals(RECORDS, end.value("idemlog_produce_records_total", "topic", TOPIC), "each record once");
            double appended = end.value("idemlog_produce_batches_total", "topic", TOPIC, "outcome", "appended");
            double duplicates = end.value("idemlog_produce_batches_total", "topic", TOPIC, "outcome", "duplicate");
            String run = "drops " + drops + ", client batches sent " + batchesSent + " retried " + batchesRetried
                + ", requests " + requestsSent + "; server appended " + appended + " duplicates " + duplicates;
            assertTrue(drops > 0, "the proxy dropped no answer: " + run);
            assertEquals(batchesSent, appended + duplicates, "every batch send answered once: " + run);
            assertEquals(batchesRetried, duplicates, "every retry answered as a duplicate: " + run);
            assertTrue(duplicates >= drops, run);
            assertEquals(duplicates, end.value("idemlog_produce_duplicate_batches_total"), run);
            for (String outcome : new String[] {"out_of_order", "fenced", "corrupt", "storage_error", "other_error"}) {
                assertEquals(0, end.value("idemlog_produce_batches_total", "topic", TOPIC, "outcome", outcome), run);
            }
            assertEquals(requestsSent, end.sum("idemlog_requests_total", "api", "produce"), run);
            assertEquals(0, end.sum("idemlog_request_errors_total", "api", "produce"), run);
            assertEquals(RECORDS, end.value("idemlog_storage_group_commit_records_sum"), run);
            assertEquals(server.logs().partition(TOPIC, 0).logEndOffset()
                + server.logs().partition(TOPIC, 1).logEndOffset(), RECORDS, run);
            assertTrue(end.value("idemlog_network_connections_opened_total") >= 1 + drops, run);
            System.out.println("MetricsUnderFaultsTest: " + run);
        }
    }
}
