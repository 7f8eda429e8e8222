package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * reconnect.backoff.ms and reconnect.backoff.max.ms reach the connections: the leader's first three connections are
 * closed as soon as accepted, so the first record waits out three reconnect backoffs. Only lower bounds are
 * asserted (a loaded machine makes things slower, never faster): base 300 ms capped at 300 waits at least
 * 3 x 300 ms; base 300 ms doubling up to 5 s waits at least 300 + 600 + 1200 ms.
 */
class ReconnectBackoffConfigTest {
    private static long firstRecordMillis(long backoffMs, long backoffMaxMs) throws Exception {
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 1)
                 .closeConnections(1, 3);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap()).lingerMs(0).reconnectBackoffMs(backoffMs)
                 .reconnectBackoffMaxMs(backoffMaxMs).maxBlockMs(30_000).build())) {
            long t0 = System.nanoTime();
            assertEquals(0L, producer.send("t", null, new byte[10]).get(30, TimeUnit.SECONDS).offset());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(server.connections.get() >= 5, server.connections.get() + " connections");
            producer.close(Duration.ofSeconds(5));
            return ms;
        }
    }

    @Test
    void shouldWaitTheConfiguredBackoffBetweenReconnects() throws Exception {
        long flat = firstRecordMillis(300, 300);
        assertTrue(flat >= 900, "3 backoffs of 300 ms took " + flat + " ms");
        long doubling = firstRecordMillis(300, 5_000);
        assertTrue(doubling >= 2_100, "backoffs of 300, 600, 1200 ms took " + doubling + " ms");
    }
}
