package io.idemlog.server.metadata;

import io.idemlog.server.state.CorruptFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The durable topic metadata: records survive a restart, torn tails are cut, damage refuses to start. */
class MetadataStoreTest {
    @TempDir
    Path dataDir;

    private Path logFile() {
        return dataDir.resolve(MetadataStore.DIR).resolve(MetadataStore.LOG_FILE);
    }

    @Test
    void recordsAreAppliedAndFoundAgainAfterARestart() throws IOException {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            assertTrue(s.isNew());
            s.append(new MetadataRecord.TopicCreated("a", a, 2, Map.of("retention.ms", "1000")));
            s.append(new MetadataRecord.TopicCreated("b", b, 1, Map.of()));
            s.append(new MetadataRecord.PartitionsAdded(a, 5));
            s.append(new MetadataRecord.ConfigsReplaced(a, Map.of("segment.bytes", "4096")));
            s.append(new MetadataRecord.TopicDeleted(b));
        }
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            assertFalse(s.isNew());
            assertEquals(Map.of("a", new TopicsImage.Topic("a", a, 5, Map.of("segment.bytes", "4096"))), s.topics());
            assertNull(s.topic(b));
            assertEquals(5, s.nextOffset());
        }
    }

    @Test
    void aRecordThatDoesNotApplyIsRefusedAndNothingIsWritten() throws IOException {
        UUID a = UUID.randomUUID();
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            s.append(new MetadataRecord.TopicCreated("a", a, 2, Map.of()));
            long size = Files.size(logFile());
            assertThrows(IllegalStateException.class,
                () -> s.append(new MetadataRecord.TopicCreated("a", UUID.randomUUID(), 1, Map.of())));
            assertThrows(IllegalStateException.class, () -> s.append(new MetadataRecord.PartitionsAdded(a, 2)));
            assertThrows(IllegalStateException.class,
                () -> s.append(new MetadataRecord.TopicDeleted(UUID.randomUUID())));
            assertEquals(size, Files.size(logFile()));
        }
    }

    @Test
    void aTornLastRecordIsTruncatedAndTheRestLoads() throws IOException {
        UUID a = UUID.randomUUID();
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            s.append(new MetadataRecord.TopicCreated("a", a, 1, Map.of()));
            s.append(new MetadataRecord.TopicCreated("b", UUID.randomUUID(), 1, Map.of()));
        }
        long full = Files.size(logFile());
        for (long cut : new long[] {full - 1, full - 10}) {
            Path copy = dataDir.resolve("copy-" + cut);
            copyDataDir(copy);
            Path log = copy.resolve(MetadataStore.DIR).resolve(MetadataStore.LOG_FILE);
            try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            try (MetadataStore s = MetadataStore.open(copy)) {
                assertEquals(List.of("a"), new ArrayList<>(s.topics().keySet()), "cut at " + cut);
                s.append(new MetadataRecord.TopicCreated("c", UUID.randomUUID(), 1, Map.of()));
            }
            try (MetadataStore s = MetadataStore.open(copy)) {
                assertEquals(List.of("a", "c"), new ArrayList<>(s.topics().keySet()));
            }
        }
        // A bad checksum in the last record is a torn append too.
        flipByte(logFile(), full - 2);
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            assertEquals(List.of("a"), new ArrayList<>(s.topics().keySet()));
        }
    }

    @Test
    void damageBeforeTheLastRecordRefusesToStartNamingTheFile() throws IOException {
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            s.append(new MetadataRecord.TopicCreated("a", UUID.randomUUID(), 1, Map.of()));
            s.append(new MetadataRecord.TopicCreated("b", UUID.randomUUID(), 1, Map.of()));
        }
        flipByte(logFile(), 8 + 8 + 12); // inside the first record's body
        CorruptFileException e = assertThrows(CorruptFileException.class, () -> MetadataStore.open(dataDir));
        assertTrue(e.getMessage().contains(logFile().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aSnapshotBoundsTheReplayAndADamagedSnapshotRefusesToStart() throws IOException {
        List<UUID> ids = new ArrayList<>();
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            for (int i = 0; i < MetadataStore.SNAPSHOT_EVERY + 10; i++) {
                UUID id = UUID.randomUUID();
                ids.add(id);
                s.append(new MetadataRecord.TopicCreated("t" + i, id, 1 + i % 3, Map.of("k", "v" + i)));
            }
            s.append(new MetadataRecord.TopicDeleted(ids.get(0)));
        }
        Path snap = dataDir.resolve(MetadataStore.DIR).resolve(MetadataStore.SNAPSHOT_FILE);
        assertTrue(Files.exists(snap));
        // Only the records after the snapshot are left in the log.
        assertTrue(Files.size(logFile()) < 2_000, "log size " + Files.size(logFile()));
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            assertEquals(MetadataStore.SNAPSHOT_EVERY + 9, s.topics().size());
            assertNull(s.topic("t0"));
            assertEquals(new TopicsImage.Topic("t7", ids.get(7), 2, Map.of("k", "v7")), s.topic("t7"));
            assertEquals(MetadataStore.SNAPSHOT_EVERY + 11, s.nextOffset());
        }
        flipByte(snap, Files.size(snap) / 2);
        CorruptFileException e = assertThrows(CorruptFileException.class, () -> MetadataStore.open(dataDir));
        assertTrue(e.getMessage().contains(snap.toString()), e.getMessage());
    }

    @Test
    void replayIsDeterministic() throws IOException {
        Random random = new Random(42);
        List<MetadataRecord> records = new ArrayList<>();
        TopicsImage live = new TopicsImage();
        List<UUID> alive = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            MetadataRecord r;
            if (alive.isEmpty() || random.nextInt(3) == 0) {
                UUID id = new UUID(random.nextLong(), random.nextLong());
                alive.add(id);
                r = new MetadataRecord.TopicCreated("t" + i, id, 1 + random.nextInt(4), Map.of());
            } else {
                UUID id = alive.get(random.nextInt(alive.size()));
                r = switch (random.nextInt(3)) {
                    case 0 -> new MetadataRecord.PartitionsAdded(id, live.topic(id).partitions() + 1);
                    case 1 -> new MetadataRecord.ConfigsReplaced(id, Map.of("retention.ms", "" + i));
                    default -> {
                        alive.remove(id);
                        yield new MetadataRecord.TopicDeleted(id);
                    }
                };
            }
            // encode/decode is the identity
            assertEquals(r, MetadataRecord.decode(ByteBuffer.wrap(r.encode())));
            live.apply(r);
            records.add(r);
        }
        TopicsImage replayed = new TopicsImage();
        records.forEach(replayed::apply);
        assertEquals(live.topics(), replayed.topics());
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            for (MetadataRecord r : records) {
                s.append(r);
            }
        }
        try (MetadataStore s = MetadataStore.open(dataDir)) {
            assertEquals(live.topics(), s.topics());
        }
    }

    private void copyDataDir(Path to) throws IOException {
        Path from = dataDir.resolve(MetadataStore.DIR);
        Files.createDirectories(to.resolve(MetadataStore.DIR));
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(MetadataStore.DIR).resolve(f.getFileName()));
            }
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            ch.write(one, position);
        }
    }
}
