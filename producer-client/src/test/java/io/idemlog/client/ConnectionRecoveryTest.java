package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections that fail while they are being set up must not hold the producer until delivery.timeout.ms (or
 * send() until max.block.ms, 15 s here): each test below blocked until then before its fix.
 */
class ConnectionRecoveryTest {
    /**
     * A peer that accepts the connection but never answers ApiVersions (wedged, or a half-open connection): the
     * setup is bounded by min(request.timeout.ms, 10 s), then the producer reconnects.
     */
    @Test
    void anUnansweredApiVersionsIsGivenUpAndTheProducerReconnects() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 1)
                 .silenceFirstConnections(2)) {
            // two silent connections, each given up after 300 ms, then one that answers
            sendOneRecordQuickly(server, 300, 3);
        }
    }

    /**
     * Connections to the partition leader closed by the peer as soon as accepted (a restarting server, a proxy) put
     * the node in reconnect backoff; the producer must retry when it ends, by itself: the metadata is fresh and
     * nothing is in flight, so nothing else would wake it. (Connection 0 is the bootstrap connection, which fetches
     * the metadata; 1-3 are the leader's first attempts, with reconnect.backoff.ms=50 doubling: 50, 100 and 200 ms.)
     */
    @Test
    void connectionsClosedAtOnceAreRetriedAfterTheirBackoff() throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 1)
                 .closeConnections(1, 3)) {
            sendOneRecordQuickly(server, 5_000, 4);
        }
    }

    private static void sendOneRecordQuickly(StallingServer server, long requestTimeoutMs, int minConnections)
        throws Exception {
        try (IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).requestTimeoutMs(requestTimeoutMs).retryBackoffMs(100)
                 .lingerMs(0).maxBlockMs(15_000).deliveryTimeoutMs(120_000).build())) {
            long t0 = System.nanoTime();
            RecordMetadata md = producer.send("t", null, new byte[10]).get(20, TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0L, md.offset());
            assertTrue(tookMs < 10_000, "took " + tookMs + " ms");
            assertTrue(server.connections.get() >= minConnections, server.connections.get() + " connections");
            producer.close(Duration.ofSeconds(5));
        }
    }
}
