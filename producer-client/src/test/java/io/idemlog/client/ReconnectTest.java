package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections to the partition leader that fail before they are ready (closed by the peer at once, as a
 * restarting server or a proxy does) put the node in reconnect backoff; the producer must try again when the
 * backoff ends, by itself: the metadata is fresh and nothing is in flight, so nothing else would wake it.
 * (Connection 0 is the bootstrap connection, which fetches the metadata; 1-3 are the leader's first attempts.)
 */
class ReconnectTest {
    @Test
    void connectionsClosedAtOnceAreRetriedAfterTheirBackoff() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 1)
                 .closeConnections(1, 3);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).requestTimeoutMs(5_000).retryBackoffMs(50).lingerMs(0)
                 .maxBlockMs(15_000).deliveryTimeoutMs(120_000).build())) {
            long t0 = System.nanoTime();
            RecordMetadata md = producer.send("t", null, new byte[10]).get(20, TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0L, md.offset());
            // 3 refused attempts with backoffs of 100, 200 and 400 ms: about a second, far below max.block.ms.
            assertTrue(tookMs < 10_000, "took " + tookMs + " ms");
            assertTrue(server.connections.get() >= 4, server.connections.get() + " connections");
            producer.close(Duration.ofSeconds(5));
        }
    }
}
