package io.idemlog.server.log;

import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.ProducerIdAllocator;
import io.idemlog.server.state.ProducerSnapshotFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8, defect 2: the producer id allocator starts above every producer id the partitions hold, whatever
 * happened to the {@code producer-ids} file (missing, older than the logs), whether the partition state comes
 * from a snapshot or from replaying the log, and also for producers no longer in the state (evicted). A reused id
 * would make a new producer's first batch look like a duplicate of an old producer's and be dropped.
 */
class ProducerIdRecoveryTest {
    /** Far above the allocator's recovery margin, so that only knowing this id puts the allocator above it. */
    private static final long OLD_PRODUCER = 3_000_000_000L;

    @TempDir
    Path dir;
    LogFixture log;

    @AfterEach
    void tearDown() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private Path idsFile() {
        return log.dataDir.resolve(ProducerIdAllocator.FILE_NAME);
    }

    private void appendFromOldProducer() {
        log.appendDurable(Batches.idempotent(OLD_PRODUCER, 0, 0, 2));
    }

    private void assertNextIdAbove(long id) throws IOException {
        long next = log.store.nextProducerId();
        assertTrue(next > id, "handed out " + next + " although producer " + id + " is in the log");
    }

    @Test
    void aMissingFileAfterACleanShutdownStartsAboveTheIdsInTheSnapshot() throws IOException {
        log = new LogFixture(dir, new TestConfig());
        assertEquals(0L, log.store.nextProducerId());
        appendFromOldProducer();
        log.store.close();
        Files.deleteIfExists(idsFile());
        log.open();
        assertNextIdAbove(OLD_PRODUCER);
    }

    @Test
    void aMissingFileAfterACrashStartsAboveTheIdsFoundByReplay() throws IOException {
        log = new LogFixture(dir, new TestConfig());
        appendFromOldProducer();
        log.store.abandon();
        Files.deleteIfExists(idsFile());
        log.open();
        assertNextIdAbove(OLD_PRODUCER);
    }

    @Test
    void aFileOlderThanTheLogsIsOverruled() throws IOException {
        log = new LogFixture(dir, new TestConfig());
        log.store.nextProducerId();
        byte[] old = Files.readAllBytes(idsFile()); // [0, 1000) reserved
        appendFromOldProducer();
        log.store.close();
        Files.write(idsFile(), old);
        log.open();
        assertNextIdAbove(OLD_PRODUCER);
    }

    @Test
    void aProducerGoneFromTheStateAndFromTheLogStillCountsThroughTheSnapshotsRecordOfTheHighestId()
        throws IOException {
        TestConfig config = new TestConfig();
        config.maxProducersPerPartition = 2;
        config.segmentBytes = 400;
        config.retentionBytes = 1;
        log = new LogFixture(dir, config);
        log.appendDurable(Batches.withValueSize(OLD_PRODUCER, 0, 0, 2, 1000L, 100));
        for (int i = 0; i < 3; i++) {
            log.appendDurable(Batches.withValueSize(1L + i % 2, 0, i / 2, 1, 1000L, 200)); // a segment each
        }
        log.store.runMaintenance(); // retention removes every segment but the active one, the old producer's too
        assertTrue(log.partition().logStartOffset() > 2, "the old producer's batch is gone from the log");
        assertEquals(1L, log.partition().producerEvictions(), "and from the state");
        log.store.close(); // snapshot at the log end: producers 1 and 2, and the highest id ever seen
        Files.deleteIfExists(idsFile());
        log.open();
        assertNextIdAbove(OLD_PRODUCER);
    }

    @Test
    void aVersion1SnapshotWithoutTheHighestIdFallsBackToReadingTheLogBelowIt() throws IOException {
        TestConfig config = new TestConfig();
        config.maxProducersPerPartition = 1;
        log = new LogFixture(dir, config);
        appendFromOldProducer();
        log.appendDurable(Batches.idempotent(1L, 0, 0, 1)); // evicts 5000
        log.store.close();
        // rewrite the snapshot at the log end in the old format (no maxProducerId): only producer 1 in it
        Path snapshot = ProducerSnapshotFile.path(log.partitionDir(), 3L);
        byte[] v2 = Files.readAllBytes(snapshot);
        java.nio.ByteBuffer v1 = java.nio.ByteBuffer.allocate(v2.length - 8);
        v1.put(v2, 0, 16).put(v2, 24, v2.length - 24 - 4);
        v1.putShort(4, (short) 1);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v1.array(), 0, v1.position());
        v1.putInt((int) crc.getValue());
        Files.write(snapshot, v1.array());
        Files.deleteIfExists(idsFile());
        log.open();
        assertEquals(1, log.partition().producerCount(), "the v1 snapshot was used");
        assertNextIdAbove(OLD_PRODUCER);
    }

    @Test
    void aDamagedFileRefusesToStartNamingIt() throws IOException {
        log = new LogFixture(dir, new TestConfig());
        log.store.nextProducerId();
        appendFromOldProducer();
        log.store.close();
        Files.write(idsFile(), new byte[] {1, 2, 3});
        CorruptFileException e = assertThrows(CorruptFileException.class, log::open);
        assertTrue(e.getMessage().contains(idsFile().toString()), e.getMessage());
        log = null;
    }
}
