package io.idemlog.server;

import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8, defect 10 for {@code meta.properties}: a damaged identity file refuses the start with a message that
 * names the file and what is wrong (it used to be "MalformedInputException: Input length = 1"), and is never
 * silently replaced by a new identity.
 */
class MetaPropertiesTest {
    @TempDir
    Path dir;

    private IdemlogServer start(String clusterId) throws Exception {
        Map<String, String> props = clusterId == null
            ? Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString())
            : Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString(), "cluster.id", clusterId);
        return IdemlogServer.start(ServerConfig.of(props),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    private Path meta() {
        return dir.resolve("meta.properties");
    }

    private void assertRefused(String... words) {
        IOException e = assertThrows(IOException.class, () -> start(null).close());
        assertTrue(e.getMessage().contains(meta().toString()), "names the file: " + e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "says '" + w + "': " + e.getMessage());
        }
    }

    @Test
    void theIdentityIsWrittenOnceAndKept() throws Exception {
        String id;
        try (IdemlogServer s = start(null)) {
            id = s.clusterId();
        }
        String text = Files.readString(meta());
        assertTrue(text.contains("cluster.id=" + id) && text.contains("version=1"), text);
        try (IdemlogServer s = start(null)) {
            assertEquals(id, s.clusterId());
        }
    }

    @Test
    void invalidUtf8IsRefusedNamingTheFileAndTheByte() throws Exception {
        Files.write(meta(), new byte[] {'c', 'l', 'u', 's', (byte) 0xC3, (byte) 0x28, '\n'});
        assertRefused("not valid UTF-8", "at byte 4");
    }

    @Test
    void aFileWithoutAClusterIdIsRefusedRatherThanGivenANewIdentity() throws Exception {
        Files.writeString(meta(), "node.id=0\nversion=1\n", StandardCharsets.UTF_8);
        assertRefused("no cluster.id");
        assertEquals("node.id=0\nversion=1\n", Files.readString(meta()), "left as it was");
    }

    @Test
    void anUnknownVersionAndAMalformedEscapeAreRefused() throws Exception {
        Files.writeString(meta(), "cluster.id=abc\nversion=7\n", StandardCharsets.UTF_8);
        assertRefused("version 7");
        Files.writeString(meta(), "cluster.id=\\uZZZZ\n", StandardCharsets.UTF_8);
        assertRefused("not a properties file");
    }

    @Test
    void anotherClustersDirectoryIsRefusedNamingBothIds() throws Exception {
        try (IdemlogServer s = start("cluster-a")) {
            assertEquals("cluster-a", s.clusterId());
        }
        IOException e = assertThrows(IOException.class, () -> start("cluster-b").close());
        assertTrue(e.getMessage().contains("cluster-a") && e.getMessage().contains("cluster-b")
            && e.getMessage().contains(meta().toString()), e.getMessage());
    }
}
