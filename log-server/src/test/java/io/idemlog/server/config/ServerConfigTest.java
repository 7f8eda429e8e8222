package io.idemlog.server.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerConfigTest {
    @Test
    void shouldStartFromEmbeddedDefaults() {
        ServerConfig c = ServerConfig.of(Map.of());
        assertEquals("127.0.0.1", c.listener.host());
        assertEquals(9092, c.listener.port());
        assertNull(c.advertisedListener);
        assertTrue(c.dataDir.endsWith("idemlog-data"));
        assertEquals(1, c.nodeId);
        assertEquals(1L << 30, c.log.segmentBytes());
        assertEquals(7L * 24 * 3600 * 1000, c.log.retentionMs());
        assertEquals(86_400_000L, c.log.producerIdExpirationMs());
        assertEquals(100_000, c.log.maxProducersPerPartition());
        assertTrue(c.autoCreateTopics);
    }

    @Test
    void shouldRejectAnUnknownPropertyAndSuggestTheNearestName() {
        ConfigException e = assertThrows(ConfigException.class,
            () -> ServerConfig.of(Map.of("log.segment.byte", "1000000")));
        assertTrue(e.getMessage().contains("unknown property 'log.segment.byte'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'log.segment.bytes'"), e.getMessage());
    }

    @Test
    void shouldRejectMalformedAndOutOfRangeValuesAllAtOnce() {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of(
            "num.partitions", "zero", "log.segment.bytes", "10", "auto.create.topics.enable", "yes")));
        assertTrue(e.getMessage().contains("num.partitions=zero: not a number"), e.getMessage());
        assertTrue(e.getMessage().contains("log.segment.bytes=10: must be in [1024"), e.getMessage());
        assertTrue(e.getMessage().contains("auto.create.topics.enable=yes"), e.getMessage());
    }

    @Test
    void shouldChooseTheThreadThatFsyncsForAcksAll() {
        assertEquals(FlushThread.AUTO, ServerConfig.of(Map.of()).flushThread, "default auto (BENCHMARKS.md, h14)");
        assertEquals(FlushThread.NETWORK, ServerConfig.of(Map.of("log.flush.thread", "network")).flushThread);
        assertEquals(FlushThread.FLUSHER, ServerConfig.of(Map.of("log.flush.thread", "flusher")).flushThread);
        assertEquals(FlushThread.AUTO, ServerConfig.of(Map.of("log.flush.thread", "auto")).flushThread);
        ConfigException e = assertThrows(ConfigException.class,
            () -> ServerConfig.of(Map.of("log.flush.thread", "disk")));
        assertTrue(e.getMessage().contains("log.flush.thread: 'disk' must be network, flusher or auto"),
            e.getMessage());
    }

    @Test
    void shouldRejectListenersItCannotServe() {
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("listeners", "SSL://127.0.0.1:9093")));
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1")));
        assertThrows(ConfigException.class,
            () -> ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:1,PLAINTEXT://127.0.0.1:2")));
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("listeners", "PLAINTEXT://0.0.0.0:9092")));
        ServerConfig c = ServerConfig.of(Map.of("listeners", "PLAINTEXT://0.0.0.0:9092",
            "advertised.listeners", "PLAINTEXT://10.0.0.5:9092"));
        assertEquals("10.0.0.5", c.advertisedListener.host());
    }

    @Test
    void shouldParseTopicsToCreate() {
        ServerConfig c = ServerConfig.of(Map.of("create.topics", "orders:4, events:8"));
        assertEquals(Map.of("orders", 4, "events", 8), c.createTopics);
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("create.topics", "orders")));
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("create.topics", "bad/name:1")));
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("create.topics", "orders:0")));
    }

    @Test
    void shouldDeriveRetentionAndRollFromTheirCoarserUnits() {
        ServerConfig c = ServerConfig.of(Map.of("log.retention.minutes", "5", "log.roll.hours", "2"));
        assertEquals(300_000L, c.log.retentionMs());
        assertEquals(7_200_000L, c.log.segmentMs());
        c = ServerConfig.of(Map.of("log.retention.ms", "-1", "log.retention.minutes", "5"));
        assertEquals(-1L, c.log.retentionMs());
    }

    @Test
    void shouldRefuseConflictingNodeIds() {
        assertEquals(7, ServerConfig.of(Map.of("broker.id", "7")).nodeId);
        assertThrows(ConfigException.class, () -> ServerConfig.of(Map.of("broker.id", "7", "node.id", "8")));
    }

    @Test
    void shouldLoadAFileWithFlagsOverridingIt(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("server.properties");
        Files.writeString(file, "num.partitions=3\nlog.dirs=/tmp/x\n");
        ServerConfig c = ServerConfig.load(file, Map.of("num.partitions", "5"));
        assertEquals(5, c.numPartitions);
        assertEquals(Paths.get("/tmp/x"), c.dataDir);
    }

    @Test
    void docsListEveryPropertyExactlyAsTheCodeDefinesIt() throws IOException {
        Path doc = Paths.get("..", "docs", "CONFIGURATION.md");
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        assertTrue(text.contains(ServerConfig.describeMarkdown()),
            "docs/CONFIGURATION.md is out of date; regenerate the table with ServerConfig.describeMarkdown():\n"
                + ServerConfig.describeMarkdown());
    }
}
