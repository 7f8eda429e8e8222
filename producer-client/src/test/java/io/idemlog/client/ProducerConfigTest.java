package io.idemlog.client;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducerConfigTest {
    private static ProducerConfig.Builder base() {
        return ProducerConfig.builder().bootstrapServers("127.0.0.1:9092");
    }

    private static void assertRejected(String expectedInMessage, Runnable build) {
        ConfigException e = assertThrows(ConfigException.class, build::run);
        assertTrue(e.getMessage().contains(expectedInMessage), () -> "message: " + e.getMessage());
    }

    @Test
    void shouldUseTheDocumentedDefaults() {
        ProducerConfig c = base().build();
        assertEquals(ProducerConfig.Acks.ALL, c.acks());
        assertTrue(c.idempotence());
        assertEquals(5, c.maxInFlightRequestsPerConnection());
        assertEquals(120_000, c.deliveryTimeoutMs());
        assertEquals(30_000, c.requestTimeoutMs());
        assertEquals(5, c.lingerMs());
        assertTrue(c.batchSize() >= 16384 && c.batchSize() <= 65536);
        assertEquals(32L << 20, c.bufferMemory());
        assertEquals(60_000, c.maxBlockMs());
        assertEquals(1 << 20, c.maxRequestSize());
        assertEquals(300_000, c.metadataMaxAgeMs());
        assertEquals(100, c.retryBackoffMs());
        assertTrue(c.clientId().startsWith("idemlog-producer-"));
    }

    @Test
    void shouldBuildFromKafkaProperties() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "a:1, b:2");
        p.setProperty("acks", "-1");
        p.setProperty("linger.ms", "20");
        p.setProperty("batch.size", "32768");
        p.setProperty("enable.idempotence", "true");
        p.setProperty("client.id", "me");
        ProducerConfig c = ProducerConfig.fromProperties(p);
        assertEquals(java.util.List.of("a:1", "b:2"), c.bootstrapServers());
        assertEquals(20, c.lingerMs());
        assertEquals(32768, c.batchSize());
        assertEquals("me", c.clientId());
    }

    @Test
    void shouldBuildFromAMapOfTypedValues() {
        ProducerConfig c = ProducerConfig.fromMap(Map.of("bootstrap.servers", "h:9", "linger.ms", 7,
            "enable.idempotence", false, "acks", "1", "max.in.flight.requests.per.connection", 10));
        assertEquals(7, c.lingerMs());
        assertEquals(ProducerConfig.Acks.LEADER, c.acks());
        assertEquals(10, c.maxInFlightRequestsPerConnection());
    }

    @Test
    void shouldRejectIdempotenceWithWeakerAcks() {
        assertRejected("enable.idempotence=true requires acks=all", () -> base().acks(ProducerConfig.Acks.LEADER)
            .build());
        assertRejected("requires acks=all", () -> base().set("acks", "0").build());
    }

    @Test
    void shouldRejectMoreThanFiveInFlightWithIdempotence() {
        assertRejected("max.in.flight.requests.per.connection must be at most 5",
            () -> base().maxInFlightRequestsPerConnection(6).build());
        base().idempotence(false).acks(ProducerConfig.Acks.LEADER).maxInFlightRequestsPerConnection(6).build();
    }

    @Test
    void shouldRejectADeliveryTimeoutShorterThanLingerPlusRequestTimeout() {
        assertRejected("delivery.timeout.ms (30004) must be at least linger.ms + request.timeout.ms",
            () -> base().deliveryTimeoutMs(30_004).build());
        base().deliveryTimeoutMs(30_005).build();
    }

    @Test
    void shouldRejectUnknownPropertyNames() {
        assertRejected("unknown property 'lingerms'", () -> base().set("lingerms", "5"));
        assertRejected("byte[] keys", () -> base().set("key.serializer", "x"));
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "a:1");
        p.setProperty("retries", "3");
        assertRejected("unknown property 'retries'", () -> ProducerConfig.fromProperties(p));
    }

    @Test
    void shouldRejectBadValues() {
        assertRejected("bootstrap.servers is required", () -> ProducerConfig.builder().build());
        assertRejected("not host:port", () -> ProducerConfig.builder().bootstrapServers("localhost").build());
        assertRejected("linger.ms must be an integer", () -> base().set("linger.ms", "soon"));
        assertRejected("acks must be all, -1, 1 or 0", () -> base().set("acks", "2").build());
        assertRejected("enable.idempotence must be true or false", () -> base().set("enable.idempotence", "yes"));
        assertRejected("linger.ms must be >= 0", () -> base().lingerMs(-1).build());
        assertRejected("buffer.memory (1000) must be at least batch.size", () -> base().bufferMemory(1000).build());
        assertRejected("batch.size must be at least 128", () -> base().batchSize(10).build());
    }
}
