package io.idemlog.client;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The producer's Micrometer meters follow a run exactly and go away on close. */
class IdemlogProducerMetricsTest {
    @Test
    void shouldReportTheRunThroughMicrometer() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 3);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).clientId("metrics-test").lingerMs(0).build())) {
            IdemlogProducerMetrics meters = new IdemlogProducerMetrics(producer, Tag.of("app", "test"));
            meters.bindTo(registry);
            int n = 37;
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                sent.add(producer.send("t", ("k" + i).getBytes(), new byte[20]));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(20, TimeUnit.SECONDS);
            }
            assertEquals(n, counter(registry, "idemlog.producer.records.sent"));
            assertEquals(0, counter(registry, "idemlog.producer.records.failed"));
            assertEquals(producer.metrics().batchesSent(), counter(registry, "idemlog.producer.batches.sent"));
            assertTrue(counter(registry, "idemlog.producer.batches.sent") >= 1);
            assertEquals(producer.metrics().requestsSent(), counter(registry, "idemlog.producer.requests.sent"));
            assertEquals(server.produceRequests.get(), counter(registry, "idemlog.producer.requests.sent"));
            assertEquals(1, counter(registry, "idemlog.producer.ids.received"));
            assertEquals(0, counter(registry, "idemlog.producer.errors", "error", "not_leader_or_follower"));
            assertEquals(producer.config().bufferMemory() - producer.metrics().bufferPoolUsedBytes(),
                registry.get("idemlog.producer.buffer.pool.available").tag("client.id", "metrics-test")
                    .gauge().value());
            Gauge inFlight = registry.get("idemlog.producer.requests.in.flight").tag("app", "test").gauge();
            assertEquals(producer.metrics().requestsInFlight(), inFlight.value());
            producer.close(Duration.ofSeconds(5));
            meters.close();
            assertNull(registry.find("idemlog.producer.records.sent").functionCounter());
        }
    }

    private static double counter(SimpleMeterRegistry registry, String name, String... tags) {
        FunctionCounter c = registry.get(name).tag("client.id", "metrics-test").tags(tags).functionCounter();
        return c.count();
    }
}
