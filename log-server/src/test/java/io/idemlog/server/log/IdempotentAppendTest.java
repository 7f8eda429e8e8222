package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IDEMPOTENCE.md's rules as seen through Partition.append: what is appended, at which offset, what is answered. */
class IdempotentAppendTest {
    @TempDir
    Path dir;
    LogFixture log;

    @BeforeEach
    void setUp() throws IOException {
        log = new LogFixture(dir, new TestConfig());
    }

    @AfterEach
    void tearDown() throws IOException {
        log.close();
    }

    @Test
    void offsetsAreAssignedConsecutivelyAcrossBatches() {
        assertEquals(new AppendResult(ErrorCode.NONE, 0L, 2L, false, null),
            log.appendOk(Batches.idempotent(1L, 0, 0, 3)));
        assertEquals(new AppendResult(ErrorCode.NONE, 3L, 3L, false, null), log.appendOk(Batches.plain(1, 5L)));
        assertEquals(new AppendResult(ErrorCode.NONE, 4L, 8L, false, null),
            log.appendOk(Batches.idempotent(2L, 0, 100, 5)));
        assertEquals(9L, log.partition().logEndOffset());
    }

    @Test
    void theBatchIsStoredAsItArrivedWithOnlyBaseOffsetAndLeaderEpochPatched() throws IOException {
        log.appendOk(Batches.plain(2, 5L));
        ByteBuffer batch = Batches.idempotent(1L, 0, 0, 3);
        byte[] sent = Batches.bytes(batch);
        log.appendOk(batch);
        byte[] file = Files.readAllBytes(LogFiles.logFile(log.partitionDir(), 0));
        byte[] stored = Arrays.copyOfRange(file, file.length - sent.length, file.length);
        ByteBuffer s = ByteBuffer.wrap(stored);
        assertEquals(2L, s.getLong(RecordBatch.BASE_OFFSET_OFFSET));
        assertEquals(0, s.getInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET));
        int from = RecordBatch.LENGTH_OFFSET;
        int to = RecordBatch.PARTITION_LEADER_EPOCH_OFFSET;
        assertArrayEquals(Arrays.copyOfRange(sent, from, to), Arrays.copyOfRange(stored, from, to));
        assertArrayEquals(Arrays.copyOfRange(sent, RecordBatch.MAGIC_OFFSET, sent.length),
            Arrays.copyOfRange(stored, RecordBatch.MAGIC_OFFSET, stored.length));
        assertTrue(new RecordBatch(s, 0).isCrcValid());
    }

    @Test
    void aNonIdempotentBatchIsAppendedEveryTimeItIsSent() {
        ByteBuffer batch = Batches.plain(2, 5L);
        assertEquals(0L, log.appendOk(Batches.copy(batch)).baseOffset());
        assertEquals(2L, log.appendOk(Batches.copy(batch)).baseOffset());
        assertEquals(0, log.partition().producerCount());
    }

    @Test
    void aResentBatchIsADuplicateAnsweredWithItsOriginalOffsetsAndNothingIsAppended() {
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 3);
        log.appendOk(Batches.copy(first));
        log.appendOk(Batches.idempotent(1L, 0, 3, 2));
        AppendResult retry = log.append(Batches.copy(first));
        assertEquals(AppendResult.duplicate(0L, 2L), retry);
        assertEquals(5L, log.partition().logEndOffset());
    }

    @Test
    void aDuplicateWaitsForTheOriginalToBeDurable() {
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 3);
        log.appendOk(Batches.copy(first));
        AppendResult retry = log.append(Batches.copy(first));
        assertTrue(retry.duplicate());
        ErrorCode[] answer = new ErrorCode[1];
        log.partition().whenDurable(retry.lastOffset(), e -> answer[0] = e);
        assertEquals(null, answer[0]);
        log.store.flushOnce();
        assertEquals(ErrorCode.NONE, answer[0]);
    }

    @Test
    void aStaleEpochIsFenced() {
        log.appendOk(Batches.idempotent(1L, 0, 0, 1));
        log.appendOk(Batches.idempotent(1L, 1, 0, 1));
        assertEquals(ErrorCode.INVALID_PRODUCER_EPOCH, log.append(Batches.idempotent(1L, 0, 1, 1)).error());
        assertEquals(2L, log.partition().logEndOffset());
    }

    @Test
    void aNewEpochMustStartAtSequenceZero() {
        log.appendOk(Batches.idempotent(1L, 0, 0, 1));
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(Batches.idempotent(1L, 1, 1, 1)).error());
        assertEquals(1L, log.appendOk(Batches.idempotent(1L, 1, 0, 1)).baseOffset());
    }

    @Test
    void aGapIsOutOfOrder() {
        log.appendOk(Batches.idempotent(1L, 0, 0, 2));
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(Batches.idempotent(1L, 0, 3, 1)).error());
        assertEquals(2L, log.partition().logEndOffset());
    }

    @Test
    void anUnknownProducerIsAcceptedAtAnySequence() {
        assertEquals(0L, log.appendOk(Batches.idempotent(99L, 3, 4711, 1)).baseOffset());
        assertEquals(1, log.partition().producerCount());
    }

    @Test
    void sequencesWrapAtIntegerMaxValue() {
        log.appendOk(Batches.idempotent(1L, 0, Integer.MAX_VALUE - 1, 2));
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(Batches.idempotent(1L, 0, 1, 1)).error());
        assertEquals(2L, log.appendOk(Batches.idempotent(1L, 0, 0, 3)).baseOffset());
        assertEquals(AppendResult.duplicate(0L, 1L), log.append(Batches.idempotent(1L, 0, Integer.MAX_VALUE - 1, 2)));
    }

    @Test
    void afterSixBatchesTheFirstIsOutOfTheWindowYetFoundInTheLogWhileTheSecondIsStillADuplicate() {
        ByteBuffer[] sent = new ByteBuffer[6];
        for (int i = 0; i < 6; i++) {
            sent[i] = Batches.idempotent(1L, 0, 2 * i, 2);
            log.appendOk(Batches.copy(sent[i]));
        }
        // KAFKA-9199: a retry that arrives after later batches pushed it out of the window is the duplicate it is
        assertEquals(AppendResult.duplicate(0L, 1L), log.append(Batches.copy(sent[0])));
        assertEquals(AppendResult.duplicate(2L, 3L), log.append(Batches.copy(sent[1])));
        assertEquals(12L, log.partition().logEndOffset());
    }

    @Test
    void aRetryFromBeforeTheWindowIsFoundAmongOtherProducersBatchesAndInAnEarlierSegment() throws IOException {
        log.close();
        TestConfig config = new TestConfig();
        config.segmentBytes = 400; // a few batches a segment: the original is in a sealed one
        log = new LogFixture(dir.resolve("rolled"), config);
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 3);
        assertEquals(0L, log.appendOk(Batches.copy(first)).baseOffset());
        long next = 3;
        for (int i = 0; i < 8; i++) {
            log.appendOk(Batches.idempotent(2L, 0, 2 * i, 2)); // another producer in between
            log.appendOk(Batches.idempotent(1L, 0, 3 + i, 1));
            next += 3;
        }
        assertTrue(log.partition().segments().length > 2, "rolled: " + log.partition().segments().length);
        assertEquals(AppendResult.duplicate(0L, 2L), log.append(Batches.copy(first)));
        assertEquals(next, log.partition().logEndOffset());
    }

    @Test
    void aSequenceBeforeTheWindowThatIsNotInTheLogIsOutOfOrder() {
        // an unknown producer is accepted at any sequence: its state starts at 100, nothing before it is stored
        for (int i = 0; i < 6; i++) {
            log.appendOk(Batches.idempotent(1L, 0, 100 + 2 * i, 2));
        }
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(Batches.idempotent(1L, 0, 50, 2)).error());
        // the same base sequence as a stored batch but another length is not that batch
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, log.append(Batches.idempotent(1L, 0, 100, 1)).error());
        assertEquals(12L, log.partition().logEndOffset());
    }

    @Test
    void producersBeyondTheLimitEvictTheLeastRecentlyWrittenAndAreCounted() throws IOException {
        log.close();
        TestConfig config = new TestConfig();
        config.maxProducersPerPartition = 2;
        log = new LogFixture(dir.resolve("small"), config);
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 1);
        log.appendOk(Batches.copy(first));
        log.appendOk(Batches.idempotent(2L, 0, 0, 1));
        log.appendOk(Batches.idempotent(3L, 0, 0, 1));
        assertEquals(2, log.partition().producerCount());
        assertEquals(1L, log.partition().producerEvictions());
        // producer 1 was forgotten: its retry is no longer recognised (accepted as a new producer's batch)
        AppendResult retry = log.append(Batches.copy(first));
        assertFalse(retry.duplicate());
        assertEquals(3L, retry.baseOffset());
        assertEquals(2L, log.partition().producerEvictions());
    }

    @Test
    void producersIdleForTheExpirationTimeAreDroppedByServerTime() throws IOException {
        ByteBuffer first = Batches.idempotent(1L, 0, 0, 1, 0L);
        log.appendOk(Batches.copy(first));
        log.clock.advance(log.config.producerIdExpirationMs() - 1);
        log.store.runMaintenance();
        assertEquals(1, log.partition().producerCount());
        assertTrue(log.append(Batches.copy(first)).duplicate());
        log.clock.advance(log.config.producerIdExpirationCheckIntervalMs());
        log.store.runMaintenance();
        assertEquals(0, log.partition().producerCount());
        assertEquals(0L, log.partition().producerEvictions());
    }
}
