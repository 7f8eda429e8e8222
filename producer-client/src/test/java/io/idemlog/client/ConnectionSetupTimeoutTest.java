package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connection whose TCP handshake succeeds but whose ApiVersions request is never answered (a wedged peer or
 * proxy, a half-open connection) must not hold the producer until delivery.timeout.ms: the connection setup is
 * bounded (min(request.timeout.ms, 10 s)), then the producer reconnects.
 */
class ConnectionSetupTimeoutTest {
    @Test
    void anUnansweredApiVersionsIsGivenUpAndTheProducerReconnects() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 1)
                 .silenceFirstConnections(2);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).requestTimeoutMs(300).lingerMs(0)
                 .maxBlockMs(15_000).deliveryTimeoutMs(120_000).build())) {
            long t0 = System.nanoTime();
            RecordMetadata md = producer.send("t", null, new byte[10]).get(20, TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0L, md.offset());
            // Two silent connections, each given up after 300 ms, then one that answers: well below max.block.ms
            // (15 s), after which send() would fail without a setup timeout.
            assertTrue(tookMs < 10_000, "took " + tookMs + " ms");
            assertTrue(server.connections.get() >= 3, "reconnected: " + server.connections.get() + " connections");
            producer.close(Duration.ofSeconds(5));
        }
    }
}
