package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.state.CorruptFileException;
import org.agrona.concurrent.CachedEpochClock;
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
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topic admin in the store: durable ids and configs, configs applied to the partitions (segment size, retention),
 * deletion (files freed after the delay, producer state gone, reads in flight still valid, the hook), partitions
 * added, and the start-up checks.
 */
class TopicAdminTest {
    @TempDir
    Path dir;
    final CachedEpochClock clock = new CachedEpochClock();

    private LogManager open(TestConfig config) throws IOException {
        return LogManager.open(dir, config.build(), clock, (p, hw) -> { }, StorageIo.DIRECT,
            LogManager.Threads.MANUAL);
    }

    private LogManager open() throws IOException {
        return open(new TestConfig());
    }

    private static AdminException refused(ErrorCode code, org.junit.jupiter.api.function.Executable e) {
        AdminException ex = assertThrows(AdminException.class, e);
        assertEquals(code, ex.error(), ex.getMessage());
        return ex;
    }

    private static ByteBuffer batch(long timestamp) {
        return Batches.withValueSize(-1L, -1, -1, 2, timestamp, 100);
    }

    private static void appendOk(Partition p, ByteBuffer b) {
        AppendResult r = p.append(b, 0, b.limit());
        assertEquals(ErrorCode.NONE, r.error(), r.toString());
    }

    @Test
    void idsAndConfigsAreDurableAndRefusalsNameTheProblem() throws IOException, AdminException {
        UUID id;
        try (LogManager store = open()) {
            id = store.createTopic("t", 3, Map.of("retention.ms", "5000", "cleanup.policy", "delete"), false);
            assertNotNull(id);
            assertEquals(id, store.topicId("t"));
            assertEquals("t", store.topicName(id));
            refused(ErrorCode.TOPIC_ALREADY_EXISTS, () -> store.createTopic("t", 1, Map.of(), false));
            refused(ErrorCode.INVALID_PARTITIONS, () -> store.createTopic("u", 0, Map.of(), false));
            refused(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> store.createTopic("a/b", 1, Map.of(), false));
            AdminException e = refused(ErrorCode.INVALID_CONFIG,
                () -> store.createTopic("u", 1, Map.of("retention.msx", "1"), false));
            assertTrue(e.getMessage().contains("retention.msx"), e.getMessage());
            e = refused(ErrorCode.INVALID_CONFIG,
                () -> store.createTopic("u", 1, Map.of("cleanup.policy", "compact"), false));
            assertTrue(e.getMessage().contains("compaction is not supported"), e.getMessage());
            refused(ErrorCode.INVALID_CONFIG, () -> store.createTopic("u", 1, Map.of("segment.bytes", "ten"), false));
            refused(ErrorCode.INVALID_CONFIG, () -> store.createTopic("u", 1, Map.of("retention.ms", "-2"), false));
            refused(ErrorCode.INVALID_CONFIG,
                () -> store.createTopic("u", 1, Map.of("message.timestamp.type", "AppendTime"), false));
            assertNull(store.createTopic("u", 1, Map.of("retention.ms", "1"), true), "validate only");
            assertEquals(-1, store.partitionCount("u"), "validate only creates nothing");
            assertFalse(Files.exists(dir.resolve("topics/u-0")));
        }
        try (LogManager store = open()) {
            assertEquals(id, store.topicId("t"));
            assertEquals(Map.of("t", 3), store.topics());
            assertEquals(5000L, store.topicConfig("t").longValue("retention.ms"));
            assertEquals(TopicConfigDef.Source.TOPIC, store.topicConfig("t").source("retention.ms"));
            assertEquals(TopicConfigDef.Source.DEFAULT, store.topicConfig("t").source("segment.bytes"));
            assertEquals(5000L, store.partitionLog("t", 2).config().retentionMs());
        }
    }

    @Test
    void segmentBytesOfTheTopicRollsItsSegmentsAndAnAlterChangesIt() throws IOException, AdminException {
        try (LogManager store = open()) {
            store.createTopic("small", 1, Map.of("segment.bytes", "1024"), false);
            store.createTopic("big", 1, Map.of(), false);
            for (int i = 0; i < 12; i++) {
                appendOk(store.partition("small", 0), batch(clock.time()));
                appendOk(store.partition("big", 0), batch(clock.time()));
            }
            store.flushOnce();
            LogSegment[] small = store.partitionLog("small", 0).segments();
            assertTrue(small.length >= 3, "small segments: " + small.length);
            for (LogSegment s : small) {
                assertTrue(s.size() <= 1024, s + " has " + s.size());
            }
            assertEquals(1, store.partitionLog("big", 0).segments().length);

            store.alterTopicConfig("big", Map.of("segment.bytes", "1024"), false);
            for (int i = 0; i < 12; i++) {
                appendOk(store.partition("big", 0), batch(clock.time()));
            }
            assertTrue(store.partitionLog("big", 0).segments().length >= 3, "the new segment.bytes applies");
        }
    }

    @Test
    void retentionRunsWithTheTopicsValueAndANewValueAfterAnAlter() throws IOException, AdminException {
        TestConfig config = new TestConfig();
        config.retentionMs = -1; // the broker keeps everything
        try (LogManager store = open(config)) {
            store.createTopic("r", 1, Map.of("segment.bytes", "1024"), false);
            clock.update(1_000_000L);
            for (int i = 0; i < 12; i++) {
                appendOk(store.partition("r", 0), batch(clock.time()));
            }
            store.flushOnce();
            int before = store.partitionLog("r", 0).segments().length;
            assertTrue(before >= 3);
            clock.advance(60_000L);
            store.runMaintenance();
            assertEquals(before, store.partitionLog("r", 0).segments().length, "broker default: keep forever");
            assertEquals(0L, store.partition("r", 0).logStartOffset());

            store.alterTopicConfig("r", Map.of("segment.bytes", "1024", "retention.ms", "30000"), false);
            clock.advance(config.retentionCheckIntervalMs);
            store.runMaintenance();
            assertEquals(1, store.partitionLog("r", 0).segments().length, "all but the active segment removed");
            assertTrue(store.partition("r", 0).logStartOffset() > 0);
        }
    }

    @Test
    void deletingATopicFreesItsFilesAfterTheDelayDropsItsProducerStateAndFiresTheHook()
        throws IOException, AdminException {
        TestConfig config = new TestConfig();
        config.fileDeleteDelayMs = 10_000L;
        List<String> events = new ArrayList<>();
        try (LogManager store = open(config)) {
            store.setTopicLifecycleListener(new TopicLifecycleListener() {
                @Override
                public void onTopicCreated(String topic, UUID topicId, int partitions) {
                    events.add("created " + topic + " " + partitions);
                }

                @Override
                public void onTopicDeleted(String topic, UUID topicId, int partitions) {
                    events.add("deleted " + topic + " " + partitions + " " + topicId.equals(store.topicId(topic)));
                }
            });
            UUID first = store.createTopic("d", 2, Map.of(), false);
            Partition p0 = store.partition("d", 0);
            ByteBuffer b = Batches.idempotent(7L, 0, 0, 3);
            ByteBuffer copy = Batches.copy(b);
            appendOk(p0, b);
            ByteBuffer resent = Batches.copy(copy);
            assertTrue(p0.append(resent, 0, resent.limit()).duplicate(), "control: before the deletion it is a duplicate");
            store.flushOnce();
            ReadResult inFlight = p0.read(0L, 1 << 20);
            assertEquals(ErrorCode.NONE, inFlight.error());
            assertTrue(inFlight.size() > 0);

            store.deleteTopic("d");
            assertEquals(List.of("created d 2", "deleted d 2 false"), events);
            assertNull(store.partition("d", 0));
            assertEquals(-1, store.partitionCount("d"));
            assertNull(store.topicId("d"));
            refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, () -> store.deleteTopic("d"));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, p0.append(Batches.copy(copy), 0, copy.limit()).error(),
                "an append racing the deletion is refused");
            assertFalse(Files.exists(dir.resolve("topics/d-0")), "renamed away at once");
            assertEquals(2, deletedDirs().size());

            // A fetch that took its file region before the deletion still reads the batch it was given.
            ByteBuffer read = ByteBuffer.allocate(inFlight.size());
            inFlight.channel().read(read, inFlight.position());
            read.flip();
            assertEquals(Batches.bytes(copy).length, read.remaining());

            // Same name again: a new id, and the old producer's batch is new data, not a duplicate.
            UUID second = store.createTopic("d", 1, Map.of(), false);
            assertFalse(first.equals(second));
            AppendResult again = store.partition("d", 0).append(copy, 0, copy.limit());
            assertEquals(ErrorCode.NONE, again.error());
            assertFalse(again.duplicate(), "the deleted topic's producer state is gone");

            clock.advance(9_000L);
            store.runMaintenance();
            assertEquals(2, deletedDirs().size(), "kept during the delete delay");
            clock.advance(2_000L);
            store.runMaintenance();
            assertEquals(0, deletedDirs().size(), "files freed after the delay");
        }
    }

    @Test
    void aCrashAfterTheDeletionRecordRemovesTheLeftoversAtStart() throws IOException, AdminException {
        try (LogManager store = open()) {
            store.createTopic("gone", 2, Map.of(), false);
            store.createTopic("kept", 1, Map.of(), false);
            appendOk(store.partition("kept", 0), batch(1L));
        }
        // Simulate: the deletion record is durable but the directories were not renamed yet.
        Path saved = dir.resolve("saved");
        Files.createDirectories(saved);
        Files.move(dir.resolve("topics/gone-0"), saved.resolve("gone-0"));
        try (LogManager store = open()) {
            store.deleteTopic("gone");
        }
        Files.move(saved.resolve("gone-0"), dir.resolve("topics/gone-0"));
        try (LogManager store = open()) {
            assertEquals(Map.of("kept", 1), store.topics());
            assertFalse(Files.exists(dir.resolve("topics/gone-0")), "a deleted topic's directory is removed");
            assertEquals(2L, store.partition("kept", 0).logEndOffset());
            assertEquals(1, store.createTopic("gone", 1), "the name is free, and its log starts empty");
            assertEquals(0L, store.partition("gone", 0).logEndOffset());
        }
    }

    @Test
    void partitionsAreAddedDurably() throws IOException, AdminException {
        try (LogManager store = open()) {
            store.createTopic("p", 2, Map.of("retention.ms", "1234"), false);
            refused(ErrorCode.INVALID_PARTITIONS, () -> store.createPartitions("p", 2, false));
            refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, () -> store.createPartitions("nope", 3, false));
            store.createPartitions("p", 3, true);
            assertEquals(2, store.partitionCount("p"));
            store.createPartitions("p", 5, false);
            assertEquals(5, store.partitionCount("p"));
            assertEquals(1234L, store.partitionLog("p", 4).config().retentionMs());
        }
        try (LogManager store = open()) {
            assertEquals(5, store.partitionCount("p"));
        }
    }

    @Test
    void aDataDirectoryFromBeforeTopicMetadataIsAdopted() throws IOException {
        Files.createDirectories(dir.resolve("topics/old-0"));
        Files.createDirectories(dir.resolve("topics/old-2"));
        try (LogManager store = open()) {
            assertEquals(Map.of("old", 3), store.topics());
            assertNotNull(store.topicId("old"));
        }
    }

    @Test
    void aDamagedMetadataFileRefusesToStartNamingIt() throws IOException, AdminException {
        try (LogManager store = open()) {
            store.createTopic("a", 1, Map.of(), false);
            store.createTopic("b", 1, Map.of(), false);
        }
        Path log = dir.resolve("metadata/metadata.log");
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x77}), 20);
        }
        IOException e = assertThrows(CorruptFileException.class, this::open);
        assertTrue(e.getMessage().contains(log.toString()), e.getMessage());
    }

    private List<Path> deletedDirs() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("topics"))) {
            return s.filter(p -> p.getFileName().toString().endsWith(LogManager.DELETE_DIR_SUFFIX)).toList();
        }
    }
}
