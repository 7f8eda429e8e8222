package io.idemlog.server.metadata;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The topic config table: validation, defaults from the broker with their source, extension, docs. */
class TopicConfigDefTest {
    @Test
    void problemsNameEveryBadKey() {
        List<String> p = TopicConfigDef.STANDARD.problems(Map.of("retention.ms", "x", "nope", "1",
            "cleanup.policy", "delete,compact", "segment.bytes", "10", "min.insync.replicas", "2"));
        assertEquals(4, p.size(), p.toString());
        assertTrue(p.get(0).contains("cleanup.policy") && p.get(0).contains("compaction is not supported"), p.get(0));
        assertTrue(p.get(1).contains("unknown topic config 'nope'"), p.get(1));
        assertTrue(p.get(2).contains("retention.ms=x: not a number"), p.get(2));
        assertTrue(p.get(3).contains("segment.bytes=10: must be in [1024"), p.get(3));
        assertTrue(TopicConfigDef.STANDARD.problems(Map.of("cleanup.policy", "delete", "retention.ms", "-1"))
            .isEmpty());
    }

    @Test
    void defaultsComeFromTheBrokerWithTheirSource() {
        ServerConfig server = ServerConfig.of(Map.of("log.retention.hours", "2", "log.segment.bytes", "2048"));
        TopicConfig tc = new TopicConfig(TopicConfigDef.STANDARD, Map.of("segment.ms", "99"),
            TopicConfigDef.BrokerDefaults.of(server));
        assertEquals(7_200_000L, tc.longValue("retention.ms"));
        assertEquals(TopicConfigDef.Source.STATIC_BROKER, tc.source("retention.ms"));
        assertEquals(2048L, tc.longValue("segment.bytes"));
        assertEquals(TopicConfigDef.Source.STATIC_BROKER, tc.source("segment.bytes"));
        assertEquals(99L, tc.longValue("segment.ms"));
        assertEquals(TopicConfigDef.Source.TOPIC, tc.source("segment.ms"));
        assertEquals(TopicConfigDef.Source.DEFAULT, tc.source("retention.bytes"));
        assertEquals("delete", tc.value("cleanup.policy"));
        LogConfig applied = tc.applyTo(server.log);
        assertEquals(99L, applied.segmentMs());
        assertEquals(7_200_000L, applied.retentionMs());
        assertEquals(server.log.indexIntervalBytes(), applied.indexIntervalBytes());
    }

    @Test
    void anotherModuleCanAddKeys() {
        TopicConfigDef def = new TopicConfigDef()
            .define(TopicConfigDef.Key.ranged("dedup.window.ms", TopicConfigDef.Type.LONG, "log.dedup.window.ms",
                "0", 0, Long.MAX_VALUE, "window"));
        assertTrue(def.problems(Map.of("dedup.window.ms", "5")).isEmpty());
        assertEquals(1, def.problems(Map.of("dedup.window.ms", "-5")).size());
        TopicConfig tc = new TopicConfig(def, Map.of(), new TopicConfigDef.BrokerDefaults(
            Map.of("log.dedup.window.ms", "60000"), java.util.Set.of("log.dedup.window.ms")));
        assertEquals(60_000L, tc.longValue("dedup.window.ms"));
        assertEquals(TopicConfigDef.Source.STATIC_BROKER, tc.source("dedup.window.ms"));
        assertNull(tc.value("retention.ms"), "not in this table");
    }

    @Test
    void docsListEveryTopicConfig() throws IOException {
        Path doc = Paths.get("..", "docs", "CONFIGURATION.md");
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        assertTrue(text.contains(TopicConfigDef.STANDARD.describeMarkdown()),
            "docs/CONFIGURATION.md is out of date; regenerate the topic config table with "
                + "TopicConfigDef.STANDARD.describeMarkdown():\n" + TopicConfigDef.STANDARD.describeMarkdown());
    }
}
