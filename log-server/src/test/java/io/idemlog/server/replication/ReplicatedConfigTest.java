package io.idemlog.server.replication;

import io.idemlog.server.log.DedupConfig;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.ReplicaStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config entry's text and the snapshot manifest's {@code config.} lines (docs/REPLICATION.md 4.8). */
class ReplicatedConfigTest {
    @TempDir
    Path dir;

    private static ReplicatedConfig sample() {
        return new ReplicatedConfig(17, 4096, 60_000, 2048, true, new DedupConfig("id=x\nweird %", 1234, 99));
    }

    @Test
    void roundTripsThroughItsTextWhateverTheHeaderHolds() {
        ReplicatedConfig c = sample();
        String text = c.encode();
        assertEquals(c, ReplicatedConfig.decode(text));
        assertEquals(8, text.lines().count(), "one line per setting, the header's newline encoded: " + text);
        assertEquals(text, ReplicatedConfig.decode(text).encode(), "canonical");
    }

    @Test
    void aMissingOrMalformedSettingIsRefusedAnUnknownOneIgnored() {
        String text = sample().encode();
        assertThrows(IllegalArgumentException.class, () -> ReplicatedConfig.decode(text.replaceAll(
            "segment.bytes=[^\n]*\n", "")));
        assertThrows(IllegalArgumentException.class, () -> ReplicatedConfig.decode(text.replace(
            "segment.ms=60000", "segment.ms=soon")));
        assertThrows(IllegalArgumentException.class, () -> ReplicatedConfig.decode(text.replace(
            "message.timestamp.type=LogAppendTime", "message.timestamp.type=Whenever")));
        assertThrows(IllegalArgumentException.class, () -> ReplicatedConfig.decode(text.replace(
            "dedup.max.keys=99", "dedup.max.keys=0")));
        assertEquals(sample(), ReplicatedConfig.decode(text + "some.future.setting=1\n"));
        assertEquals(-1L, ReplicatedConfig.decode(text.replace("version=17\n", "")).version(), "unversioned");
    }

    @Test
    void sameSettingsIgnoresTheVersionAndApplyToKeepsTheNodesOtherSettings() {
        ReplicatedConfig c = sample();
        ReplicatedConfig later = new ReplicatedConfig(18, 4096, 60_000, 2048, true, c.dedup());
        assertTrue(c.sameSettings(later));
        assertFalse(c.sameSettings(new ReplicatedConfig(17, 8192, 60_000, 2048, true, c.dedup())));
        assertFalse(c.sameSettings(null));
        LogConfig base = LogConfig.defaults();
        LogConfig applied = c.applyTo(base);
        assertEquals(4096, applied.segmentBytes());
        assertEquals(60_000, applied.segmentMs());
        assertEquals(2048, applied.maxBatchBytes());
        assertTrue(applied.logAppendTime());
        assertEquals(c.dedup(), applied.dedup());
        assertEquals(base.retentionMs(), applied.retentionMs());
        assertEquals(base.indexIntervalBytes(), applied.indexIntervalBytes());
        assertEquals(base.producerIdExpirationMs(), applied.producerIdExpirationMs());
        assertTrue(ReplicatedConfig.of(applied, 18).sameSettings(c));
    }

    @Test
    void aSnapshotManifestRecordsTheSettingsInForce() throws IOException {
        ReplicaStorage.Manifest manifest = new ReplicaStorage.Manifest(40, 0, 1000, new long[] {0, 20},
            new long[] {1024, 512});
        Path written = new SnapshotManifestFile(3, 77, manifest, sample()).write(dir);
        SnapshotManifestFile read = SnapshotManifestFile.read(written);
        assertEquals(sample(), read.config());
        assertEquals(77, read.index());
        Path none = new SnapshotManifestFile(3, 78, manifest, null).write(dir);
        assertNull(SnapshotManifestFile.read(none).config(), "no config entry applied yet");

        String text = Files.readString(written, StandardCharsets.UTF_8);
        Path bad = dir.resolve(SnapshotManifestFile.PREFIX + "x" + SnapshotManifestFile.SUFFIX);
        Files.writeString(bad, text.replace("config.segment.bytes=4096", "config.segment.bytes=big"));
        IOException e = assertThrows(IOException.class, () -> SnapshotManifestFile.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }
}
