package io.idemlog.client;

import io.idemlog.common.record.Compression;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    void shouldRejectExplicitIdempotenceWithWeakerAcks() {
        assertRejected("enable.idempotence=true requires acks=all", () -> base().idempotence(true)
            .acks(ProducerConfig.Acks.LEADER).build());
        assertRejected("requires acks=all", () -> base().idempotence(true).set("acks", "0").build());
    }

    @Test
    void shouldRejectMoreThanFiveInFlightWithExplicitIdempotence() {
        assertRejected("max.in.flight.requests.per.connection must be at most 5",
            () -> base().idempotence(true).maxInFlightRequestsPerConnection(6).build());
        base().idempotence(false).acks(ProducerConfig.Acks.LEADER).maxInFlightRequestsPerConnection(6).build();
    }

    @Test
    void shouldRejectExplicitIdempotenceWithoutRetries() {
        assertRejected("enable.idempotence=true requires retries > 0",
            () -> base().idempotence(true).retries(0).build());
    }

    @Test
    void shouldTurnDefaultIdempotenceOffOnAConflictAsKafkaClientsDoes() {
        // kafka-clients 3.2+: idempotence is on by default, and a conflicting setting turns it off when
        // enable.idempotence was not set explicitly
        assertFalse(base().acks(ProducerConfig.Acks.LEADER).build().idempotence());
        assertFalse(base().set("acks", "0").build().idempotence());
        assertFalse(base().retries(0).build().idempotence());
        assertFalse(base().maxInFlightRequestsPerConnection(6).build().idempotence());
        assertTrue(base().retries(1).build().idempotence());
        assertTrue(base().build().idempotence());
    }

    @Test
    void shouldHonourRetriesAndReconnectBackoffs() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "a:1");
        p.setProperty("retries", "3");
        p.setProperty("reconnect.backoff.ms", "20");
        p.setProperty("reconnect.backoff.max.ms", "700");
        ProducerConfig c = ProducerConfig.fromProperties(p);
        assertEquals(3, c.retries());
        assertEquals(20, c.reconnectBackoffMs());
        assertEquals(700, c.reconnectBackoffMaxMs());
        assertTrue(c.ignoredProperties().isEmpty());
        // as kafka-clients: a max below the base is raised to it
        assertEquals(500, base().reconnectBackoffMs(500).reconnectBackoffMaxMs(100).build().reconnectBackoffMaxMs());
        assertEquals(Integer.MAX_VALUE, base().build().retries());
        assertEquals(50, base().build().reconnectBackoffMs());
        assertEquals(1000, base().build().reconnectBackoffMaxMs());
        assertRejected("retries must be >= 0", () -> base().retries(-1).build());
    }

    @Test
    void shouldAcceptIgnoredKafkaPropertiesSayingWhy() {
        ProducerConfig c = base().set("key.serializer", "org.apache.kafka.common.serialization.StringSerializer")
            .set("compression.type", "none").set("security.protocol", "PLAINTEXT").set("ssl.truststore.location", "x")
            .build();
        assertEquals(java.util.Set.of("key.serializer", "ssl.truststore.location"), c.ignoredProperties().keySet());
        assertTrue(c.ignoredProperties().get("key.serializer").contains("byte[]"));
        assertTrue(c.ignoredProperties().get("ssl.truststore.location").contains("PLAINTEXT only"));
        assertRejected("security.protocol=SSL is not supported", () -> base().set("security.protocol", "SSL").build());
    }

    @Test
    void shouldHonourCompressionTypeAndLevelsAsKafkaClientsNamesThem() {
        assertEquals(Compression.NONE, base().build().compression());
        ProducerConfig lz4 = base().set("compression.type", "lz4").build();
        assertEquals(Compression.LZ4, lz4.compression());
        assertEquals(9, lz4.compressionLevel());
        assertTrue(lz4.ignoredProperties().isEmpty());
        assertEquals(Compression.ZSTD, base().compressionType("ZSTD").build().compression());
        assertEquals(3, base().compressionType("zstd").build().compressionLevel());
        assertEquals(19, base().compressionType("zstd").set("compression.zstd.level", "19").build()
            .compressionLevel());
        assertEquals(-1, base().compressionType("gzip").build().compressionLevel());
        assertEquals(1, base().compressionType("gzip").set("compression.gzip.level", 1).build().compressionLevel());
        assertEquals(Compression.SNAPPY, base().compressionType("snappy").build().compression());
        assertRejected("compression.type must be none, gzip, snappy, lz4 or zstd, got 'brotli'",
            () -> base().compressionType("brotli").build());
        assertRejected("compression.gzip.level must be in [1, 9] or -1, got 10",
            () -> base().compressionType("gzip").set("compression.gzip.level", 10).build());
        assertRejected("compression.lz4.level must be in [1, 17], got 18",
            () -> base().compressionType("lz4").set("compression.lz4.level", 18).build());
        assertRejected("compression.zstd.level must be in [-131072, 22], got 23",
            () -> base().compressionType("zstd").set("compression.zstd.level", 23).build());
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
        assertRejected("unknown property 'retry'", () -> base().set("retry", "3"));
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
