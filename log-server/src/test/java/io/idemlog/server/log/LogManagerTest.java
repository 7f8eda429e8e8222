package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store: topics, partitions on disk, producer ids. */
class LogManagerTest {
    @TempDir
    Path dir;
    final CachedEpochClock clock = new CachedEpochClock();

    private LogManager open() throws IOException {
        return LogManager.open(dir, new TestConfig().build(), clock, (p, hw) -> { }, StorageIo.DIRECT,
            LogManager.Threads.MANUAL);
    }

    @Test
    void topicNamesFollowKafkasRules() throws IOException {
        try (LogManager store = open()) {
            for (String good : new String[] {"a", "A-b_c.d", "x".repeat(249), "..a", "topic-1"}) {
                assertEquals(1, store.createTopic(good, 1), good);
            }
            for (String bad : new String[] {"", ".", "..", "x".repeat(250), "a b", "a/b", "ä", "a\\b", "a:b"}) {
                assertThrows(IllegalArgumentException.class, () -> store.createTopic(bad, 1), bad);
            }
            assertThrows(IllegalArgumentException.class, () -> store.createTopic("zero", 0));
            assertThrows(IllegalArgumentException.class, () -> store.createTopic(null, 1));
        }
    }

    @Test
    void creatingAnExistingTopicReturnsItsPartitionCount() throws IOException {
        try (LogManager store = open()) {
            assertEquals(3, store.createTopic("t", 3));
            assertEquals(3, store.createTopic("t", 5));
            assertEquals(3, store.partitionCount("t"));
            assertEquals(-1, store.partitionCount("nope"));
            assertNull(store.partition("t", 3));
            assertNull(store.partition("t", -1));
            assertNull(store.partition("nope", 0));
            assertNotNull(store.partition("t", 2));
            assertEquals("t", store.partition("t", 2).topic());
            assertEquals(2, store.partition("t", 2).index());
            assertEquals(Map.of("t", 3), store.topics());
        }
    }

    @Test
    void topicsAndTheirDataAreFoundAgainAfterARestart() throws IOException {
        try (LogManager store = open()) {
            store.createTopic("orders-eu", 2);
            store.createTopic("x", 1);
            ByteBuffer batch = Batches.plain(3, 1L);
            store.partition("orders-eu", 1).append(batch, 0, batch.limit());
        }
        try (LogManager store = open()) {
            assertEquals(Map.of("orders-eu", 2, "x", 1), store.topics());
            Partition p = store.partition("orders-eu", 1);
            assertEquals(3L, p.logEndOffset());
            assertEquals(3L, p.highWatermark());
            assertEquals(0L, store.partition("orders-eu", 0).logEndOffset());
        }
    }

    @Test
    void aPartitionDirectoryLostInTheMiddleOfTopicCreationIsRecreated() throws IOException {
        try (LogManager store = open()) {
            store.createTopic("t", 3);
        }
        Path lost = dir.resolve("topics").resolve("t-1");
        try (Stream<Path> files = Files.walk(lost)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        try (LogManager store = open()) {
            assertEquals(3, store.partitionCount("t"));
            assertTrue(Files.isDirectory(lost));
        }
    }

    @Test
    void strayFilesInTheTopicsDirectoryAreIgnored() throws IOException {
        Files.createDirectories(dir.resolve("topics").resolve("no_partition_number"));
        Files.writeString(dir.resolve("topics").resolve("notes-0"), "a file, not a directory");
        try (LogManager store = open()) {
            assertEquals(Map.of(), store.topics());
        }
    }

    @Test
    void producerIdsAreUniqueAcrossCleanRestartsAndCrashes() throws IOException {
        Set<Long> seen = new HashSet<>();
        LogManager store = open();
        for (int i = 0; i < 10; i++) {
            assertTrue(seen.add(store.nextProducerId()));
        }
        store.abandon(); // a crash in the middle of a block
        store = open();
        for (int i = 0; i < 10; i++) {
            assertTrue(seen.add(store.nextProducerId()));
        }
        store.close();
        store = open();
        for (int i = 0; i < 10; i++) {
            assertTrue(seen.add(store.nextProducerId()));
        }
        store.close();
        assertEquals(30, seen.size());
    }

    @Test
    void aClosedStoreRejectsAppendsWithAStorageError() throws IOException {
        LogManager store = open();
        store.createTopic("t", 1);
        Partition p = store.partition("t", 0);
        store.close();
        ByteBuffer batch = Batches.plain(1, 1L);
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, p.append(batch, 0, batch.limit()).error());
        store.close(); // twice is fine
    }

    @Test
    void closeMakesEveryAppendedBatchDurableAndCompletesItsCallback() throws IOException {
        LogManager store = open();
        store.createTopic("t", 1);
        Partition p = store.partition("t", 0);
        ByteBuffer batch = Batches.plain(2, 1L);
        p.append(batch, 0, batch.limit());
        ErrorCode[] answer = new ErrorCode[1];
        p.whenDurable(1L, e -> answer[0] = e);
        store.close();
        assertEquals(ErrorCode.NONE, answer[0]);
    }

    @Test
    void invalidConfigurationIsRejectedAtOpen() {
        TestConfig config = new TestConfig();
        config.segmentBytes = Integer.MAX_VALUE;
        assertThrows(IllegalArgumentException.class, () -> LogManager.open(dir, config.build(), clock, (p, hw) -> { }));
        TestConfig noProducers = new TestConfig();
        noProducers.maxProducersPerPartition = 0;
        assertThrows(IllegalArgumentException.class,
            () -> LogManager.open(dir, noProducers.build(), clock, (p, hw) -> { }));
    }
}
