package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.LeaderEpochFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader epoch cache maintained by apply: one entry (epoch 0) on a single node, written with the first append;
 * a newer epoch passed to apply adds an entry at its first offset, stamped in the batches; recovered at open, cut at
 * the recovered log end, rebuilt when absent.
 */
class LeaderEpochTest {
    @TempDir
    Path dir;

    @Test
    void singleNodeHasOneEpochFromItsFirstAppend() throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            assertNull(LeaderEpochFile.readIfExists(log.partitionDir()), "nothing appended: no file");
            assertEquals(new EpochEndOffset(0, 0), log.partition().endOffsetForEpoch(0),
                "nothing appended: the current epoch 0 ends at the log end, as on a Kafka leader");
            assertEquals(EpochEndOffset.UNDEFINED, log.partition().endOffsetForEpoch(1));
            assertEquals(EpochEndOffset.UNDEFINED, log.partition().endOffsetForEpoch(-1));
            assertEquals(0, log.partition().leaderEpoch());
            assertEquals(PartitionRole.LEADER, log.partition().role());
            log.appendDurable(Batches.plain(3, 1000L));
            log.appendDurable(Batches.plain(2, 1000L));
            assertEquals("[0@0]", LeaderEpochFile.readIfExists(log.partitionDir()).toString());
            assertEquals(new EpochEndOffset(0, 5), log.partition().endOffsetForEpoch(0));
            assertEquals(new EpochEndOffset(-1, -1), log.partition().endOffsetForEpoch(1));
            log.crashAndReopen();
            assertEquals(new EpochEndOffset(0, 5), log.partition().endOffsetForEpoch(0), "recovered");
        }
    }

    @Test
    void aNewerEpochStartsAtItsFirstBatchAndIsStampedInIt() throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.appendDurable(Batches.plain(3, 1000L));
            apply(log.partition(), Batches.plain(2, 1000L), 4);
            apply(log.partition(), Batches.plain(1, 1000L), 4);
            apply(log.partition(), Batches.plain(4, 1000L), 9);
            assertEquals("[0@0, 4@3, 9@6]", LeaderEpochFile.readIfExists(log.partitionDir()).toString());
            PartitionLog p = log.partition();
            assertEquals(9, p.leaderEpoch(), "the newest epoch of the cache");
            assertEquals(new EpochEndOffset(0, 3), p.endOffsetForEpoch(2), "between 0 and 4: epoch 0 and its end");
            assertEquals(EpochEndOffset.UNDEFINED, p.endOffsetForEpoch(10), "above every known epoch");
            assertEquals(new EpochEndOffset(0, 3), p.endOffsetForEpoch(0));
            assertEquals(new EpochEndOffset(4, 6), p.endOffsetForEpoch(7), "unknown epoch: the floor's end");
            assertEquals(new EpochEndOffset(9, 10), p.endOffsetForEpoch(9));
            log.store.flushOnce();
            ByteBuffer seg = ByteBuffer.wrap(Files.readAllBytes(p.segments()[0].path()));
            int[] stamped = new int[4];
            int n = 0;
            for (int pos = 0; pos < p.segments()[0].size(); pos += new RecordBatch(seg, pos).sizeInBytes()) {
                stamped[n++] = new RecordBatch(seg, pos).partitionLeaderEpoch();
            }
            assertArrayEquals(new int[] {0, 4, 4, 9}, stamped, "the epoch is in every batch's bytes");
            log.reopen();
            assertEquals("[0@0, 4@3, 9@6]", LeaderEpochFile.readIfExists(log.partitionDir()).toString());
            assertEquals(new EpochEndOffset(9, 10), log.partition().endOffsetForEpoch(9));
            assertEquals(9, log.partition().leaderEpoch(), "recovered");
        }
    }

    @Test
    void recoveryCutsEpochsWhoseFirstBatchDidNotSurviveAndRebuildsAMissingFile() throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.appendDurable(Batches.plain(3, 1000L));
            log.store.abandon();
            // An epoch file written before its first batch, which the crash lost.
            LeaderEpochCache ahead = LeaderEpochFile.readIfExists(log.partitionDir());
            assertTrue(ahead.assign(5, 3));
            LeaderEpochFile.write(log.partitionDir(), ahead);
            log.open();
            assertEquals("[0@0]", LeaderEpochFile.readIfExists(log.partitionDir()).toString());
            assertEquals(new EpochEndOffset(0, 3), log.partition().endOffsetForEpoch(0));

            log.store.close();
            Files.delete(LeaderEpochFile.path(log.partitionDir()));
            log.open();
            assertEquals("[0@0]", LeaderEpochFile.readIfExists(log.partitionDir()).toString(),
                "a data directory from before the file: epoch 0 from the log start");
            assertFalse(Files.exists(log.partitionDir().resolve(LeaderEpochFile.FILE_NAME + ".tmp")));
        }
    }

    /** The replicated path's call: the applier with an explicit time and epoch (single thread: no lock needed). */
    private static void apply(PartitionLog p, ByteBuffer batch, int epoch) throws IOException {
        AppendOutcome out = new AppendOutcome();
        RecordBatch view = out.view(batch, 0);
        AppendResult r = p.applier().apply(view, batch, 0, batch.limit(), 1_700_000_000_000L, epoch, p.config(), out);
        assertNull(r, () -> "appended: " + r);
    }
}
