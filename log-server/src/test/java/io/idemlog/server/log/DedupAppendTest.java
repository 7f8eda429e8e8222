package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.common.record.RecordReader;
import io.idemlog.server.state.KeyWindow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * De-duplication keys in the storage: repeats are not stored, batches keep their offset range (holes, empty
 * batches), the producer-session rules run first and are unchanged, window expiry on an injected clock, the key
 * bound, a hash collision never drops a distinct record, durability order. Each "is dropped" test has its control:
 * the same appends with de-duplication off store every record.
 */
class DedupAppendTest {
    static final String HEADER = "event-id";
    static final long WINDOW = 60_000L;

    @TempDir
    Path dir;

    static TestConfig config(int maxKeys) {
        TestConfig c = new TestConfig();
        c.dedup = new DedupConfig(HEADER, WINDOW, maxKeys);
        return c;
    }

    /** A batch with one record per key (null = a record without the header), values "v-" + key. */
    static ByteBuffer batch(long producerId, int epoch, int baseSequence, String... keys) {
        ByteBuffer buf = ByteBuffer.allocateDirect(RecordBatch.HEADER_SIZE + keys.length * 96 + 64);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < keys.length; i++) {
            String k = keys[i];
            Header[] headers = k == null ? new Header[] {new Header("other", new byte[] {1})}
                : new Header[] {new Header("other", new byte[] {2}), new Header(HEADER, bytes(k))};
            if (!builder.tryAppend(1_000L + i, null, bytes("v-" + k + "-" + i), headers)) {
                throw new IllegalStateException("too small");
            }
        }
        int size = builder.close();
        if (producerId >= 0) {
            new RecordBatch(buf, 0).stampProducerState(producerId, (short) epoch, baseSequence);
        }
        buf.limit(size);
        return buf;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What the log holds, read from the segment files: one entry per batch with its record offsets. */
    record StoredBatch(long baseOffset, long lastOffset, int count, long producerId, int baseSequence,
                       List<Long> offsets, List<String> values) {
    }

    static List<StoredBatch> stored(PartitionLog p) throws IOException {
        List<StoredBatch> out = new ArrayList<>();
        for (LogSegment s : p.segments()) {
            ByteBuffer file = ByteBuffer.allocate(s.size());
            try (FileChannel ch = FileChannel.open(s.path(), StandardOpenOption.READ)) {
                while (file.hasRemaining() && ch.read(file, file.position()) >= 0) {
                    // read all
                }
            }
            int pos = 0;
            RecordBatch b = new RecordBatch();
            RecordReader reader = new RecordReader();
            while (pos < s.size()) {
                b.wrap(file, pos);
                assertEquals(RecordBatch.Validation.VALID, b.validateStored(s.size() - pos, Integer.MAX_VALUE));
                List<Long> offsets = new ArrayList<>();
                List<String> values = new ArrayList<>();
                reader.wrap(file, pos);
                while (reader.next()) {
                    offsets.add(reader.offset);
                    values.add(new String(reader.value(), StandardCharsets.UTF_8));
                }
                out.add(new StoredBatch(b.baseOffset(), b.lastOffset(), b.recordsCount(), b.producerId(),
                    b.baseSequence(), offsets, values));
                pos += b.sizeInBytes();
            }
        }
        return out;
    }

    @Test
    void repeatsAcrossBatchesAreDroppedLeavingHolesAndTheFirstWins() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            AppendResult first = log.appendOk(batch(1, 0, 0, "a", "b", "c"));
            assertNull(first.repeats());
            AppendResult second = log.appendOk(batch(2, 0, 0, "b", "d", "a"));
            assertEquals(3, second.baseOffset());
            assertEquals(5, second.lastOffset());
            assertArrayEquals(new long[] {0, 1, 2, 0}, second.repeats());
            assertEquals(6, log.partition().logEndOffset());
            List<StoredBatch> batches = stored(log.partition());
            assertEquals(2, batches.size());
            StoredBatch b = batches.get(1);
            assertEquals(3, b.baseOffset());
            assertEquals(5, b.lastOffset(), "lastOffsetDelta kept");
            assertEquals(1, b.count());
            assertEquals(List.of(4L), b.offsets(), "the survivor keeps its offset delta");
            assertEquals(List.of("v-d-1"), b.values());
            assertEquals(List.of("v-a-0", "v-b-1", "v-c-2"), batches.get(0).values(), "the first wins");
            assertEquals(2, log.partition().dedupRepeats());
        }
    }

    @Test
    void controlWithDedupOffEveryRecordIsStored() throws IOException {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.appendOk(batch(1, 0, 0, "a", "b", "c"));
            AppendResult second = log.appendOk(batch(2, 0, 0, "b", "d", "a"));
            assertNull(second.repeats());
            List<StoredBatch> batches = stored(log.partition());
            assertEquals(List.of(3L, 4L, 5L), batches.get(1).offsets());
            assertEquals(0, log.partition().dedupRepeats());
        }
    }

    @Test
    void aKeyRepeatedInOneBatchIsStoredOnce() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            AppendResult r = log.appendOk(batch(1, 0, 0, "a", "a", "b", null, "a", "b"));
            assertArrayEquals(new long[] {1, 0, 4, 0, 5, 2}, r.repeats());
            StoredBatch b = stored(log.partition()).get(0);
            assertEquals(List.of(0L, 2L, 3L), b.offsets());
            assertEquals(5, b.lastOffset());
        }
    }

    @Test
    void theKeyIsTheValueOfTheFirstHeaderWithTheName() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(-1, -1, -1, "a", "b"));
            // Record 0: the first event-id header is null, so no key (the later "a" is not looked at): stored.
            // Record 1: the first event-id is "b" (stored before): a repeat, whatever follows. Record 2: "c" first.
            ByteBuffer buf = ByteBuffer.allocateDirect(1024);
            RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
            Header[][] headers = {
                {new Header(HEADER, null), new Header(HEADER, bytes("a"))},
                {new Header(HEADER, bytes("b")), new Header(HEADER, bytes("z"))},
                {new Header("other", bytes("b")), new Header(HEADER, bytes("c")), new Header(HEADER, bytes("a"))},
            };
            for (int i = 0; i < headers.length; i++) {
                assertTrue(builder.tryAppend(2_000L + i, null, bytes("w-" + i), headers[i]));
            }
            buf.limit(builder.close());
            AppendResult r = log.appendOk(buf);
            assertArrayEquals(new long[] {1, 1}, r.repeats());
            assertEquals(List.of(2L, 4L), stored(log.partition()).get(1).offsets());
        }
    }

    @Test
    void recordsWithoutTheHeaderOrWithAnEmptyValueAreStoredAsUsual() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(-1, -1, -1, null, null, ""));
            AppendResult r = log.appendOk(batch(-1, -1, -1, null, "", null));
            assertNull(r.repeats());
            assertEquals(List.of(3L, 4L, 5L), stored(log.partition()).get(1).offsets());
        }
    }

    @Test
    void aBatchOfOnlyRepeatsIsStoredEmptyAndKeepsTheProducersSequenceRange() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(1, 0, 0, "a", "b"));
            ByteBuffer repeat = batch(2, 0, 0, "a", "b");
            ByteBuffer retry = Batches.copy(repeat);
            AppendResult r = log.appendOk(repeat);
            assertEquals(2, r.baseOffset());
            assertEquals(3, r.lastOffset());
            assertEquals(2, r.repeatCount());
            StoredBatch empty = stored(log.partition()).get(1);
            assertEquals(0, empty.count());
            assertEquals(2, empty.baseOffset());
            assertEquals(3, empty.lastOffset());
            assertEquals(2, empty.producerId());
            assertEquals(0, empty.baseSequence());
            // The producer-session rules are unchanged: a retry is a classic duplicate with its original offset...
            AppendResult dup = log.append(retry);
            assertEquals(ErrorCode.NONE, dup.error());
            assertTrue(dup.duplicate());
            assertEquals(2, dup.baseOffset());
            // ... and the next batch continues the sequence (2 follows the empty batch's range 0..1).
            AppendResult next = log.appendOk(batch(2, 0, 2, "c"));
            assertEquals(4, next.baseOffset());
            AppendResult gap = log.append(batch(2, 0, 5, "d"));
            assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, gap.error());
        }
    }

    @Test
    void theSessionDuplicateCheckRunsFirst() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            ByteBuffer b = batch(1, 0, 0, "a", "b");
            ByteBuffer retry = Batches.copy(b);
            log.appendOk(b);
            AppendResult dup = log.append(retry);
            assertTrue(dup.duplicate());
            assertEquals(0, dup.baseOffset());
            assertNull(dup.repeats(), "a same-session retry is a duplicate batch, not two repeats");
            assertEquals(2, log.partition().logEndOffset());
            assertEquals(0, log.partition().dedupRepeats());
        }
    }

    @Test
    void aKeyExpiresAfterTheWindowOnTheServerClock() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(-1, -1, -1, "a"));
            log.clock.advance(WINDOW - 1);
            assertEquals(1, log.appendOk(batch(-1, -1, -1, "a")).repeatCount(), "inside the window");
            log.clock.advance(1);
            assertNull(log.appendOk(batch(-1, -1, -1, "a")).repeats(), "the window ended");
            assertEquals(1, log.appendOk(batch(-1, -1, -1, "a")).repeatCount(), "the new record's window");
            List<StoredBatch> batches = stored(log.partition());
            assertEquals(List.of(0L), batches.get(0).offsets());
            assertEquals(List.of(), batches.get(1).offsets());
            assertEquals(List.of(2L), batches.get(2).offsets());
        }
    }

    @Test
    void theKeyBoundEvictsTheOldestAndCountsIt() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(3))) {
            log.appendOk(batch(-1, -1, -1, "k1", "k2", "k3", "k4", "k5"));
            assertEquals(3, log.partition().dedupKeys());
            assertEquals(2, log.partition().dedupEvictions());
            AppendResult r = log.appendOk(batch(-1, -1, -1, "k1", "k5"));
            assertArrayEquals(new long[] {1, 4}, r.repeats(), "k1 was evicted (stored again); k5 is kept");
            assertEquals(3, log.partition().dedupKeys());
        }
    }

    @Test
    void aHashCollisionDoesNotDropADistinctRecord() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(-1, -1, -1, "y"));
            // Make the window claim that the record at offset 0 (key "y") has the hash of "x": a collision.
            KeyWindow keys = log.partition().keyWindow();
            byte[] x = bytes("x");
            keys.add(KeyWindow.hash(ByteBuffer.wrap(x), 0, x.length), 0L, log.clock.time());
            AppendResult r = log.appendOk(batch(-1, -1, -1, "x"));
            assertNull(r.repeats(), "the stored record at the colliding offset has another key");
            assertEquals(List.of(1L), stored(log.partition()).get(1).offsets());
            assertEquals(1, log.appendOk(batch(-1, -1, -1, "x")).repeatCount(), "x itself now repeats");
        }
    }

    @Test
    void aBatchWithRepeatsIsDurableOnlyAfterItsOriginals() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(1, 0, 0, "a"));
            AppendResult r = log.appendOk(batch(2, 0, 0, "a"));
            assertEquals(1, r.repeatCount());
            AtomicReference<ErrorCode> done = new AtomicReference<>();
            log.partition().whenDurable(r.lastOffset(), done::set);
            assertNull(done.get(), "not answered before the original is durable");
            log.store.flushOnce();
            assertEquals(ErrorCode.NONE, done.get());
            assertTrue(log.partition().highWatermark() > 0);
        }
    }

    @Test
    void aFailedWriteEntersNoKey() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.io.failWrites = true;
            AppendResult failed = log.append(batch(-1, -1, -1, "a"));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR, failed.error());
            assertEquals(0, log.partition().dedupKeys(), "a key enters the window only with its stored record");
        }
    }

    @Test
    void holesAndEmptyBatchesSurviveACrashAndTheWindowIsRebuilt() throws IOException {
        try (LogFixture log = new LogFixture(dir, config(1000))) {
            log.appendOk(batch(1, 0, 0, "a", "b", "c"));
            log.appendOk(batch(2, 0, 0, "b", "d"));
            log.appendOk(batch(3, 0, 0, "a", "c"));
            log.store.flushOnce();
            List<StoredBatch> before = stored(log.partition());
            log.crashAndReopen();
            assertEquals(before, stored(log.partition()));
            assertEquals(7, log.partition().logEndOffset());
            assertEquals(4, log.partition().dedupKeys());
            AppendResult again = log.appendOk(batch(4, 0, 0, "d", "e", "a"));
            assertArrayEquals(new long[] {0, 4, 2, 0}, again.repeats());
        }
    }

    @Test
    void perTopicConfigsAtCreateTopicsAndAlterOverrideTheBrokerDefaultAndSurviveARestart() throws Exception {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            log.store.createTopic("orders", 1, Map.of("dedup.header", HEADER, "dedup.window.ms", "5000"), false);
            PartitionLog orders = log.store.partitionLog("orders", 0);
            assertEquals(new DedupConfig(HEADER, 5000, DedupConfig.DEFAULT_MAX_KEYS), orders.dedup());
            assertEquals(DedupConfig.OFF, log.partition().dedup(), "the broker default (off) elsewhere");
            orders.append(batch(-1, -1, -1, "a", "b"), 0, batch(-1, -1, -1, "a", "b").limit());
            log.reopen();
            orders = log.store.partitionLog("orders", 0);
            assertEquals(HEADER, orders.dedup().header(), "the topic config is kept across a restart");
            assertEquals(2, orders.dedupKeys(), "and its window is recovered");
            ByteBuffer again = batch(-1, -1, -1, "a");
            assertEquals(1, orders.append(again, 0, again.limit()).repeatCount());
            log.store.alterTopicConfig("orders", Map.of(), false);
            assertEquals(DedupConfig.OFF, log.store.partitionLog("orders", 0).dedup(), "altered back to off");
            ByteBuffer stored = batch(-1, -1, -1, "a");
            assertNull(orders.append(stored, 0, stored.limit()).repeats());
        }
    }

    @Test
    void aBadTopicConfigIsRefusedWithInvalidConfig() throws Exception {
        try (LogFixture log = new LogFixture(dir, new TestConfig())) {
            io.idemlog.server.metadata.AdminException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.idemlog.server.metadata.AdminException.class,
                () -> log.store.createTopic("bad", 1, Map.of("dedup.window.ms", "0"), false));
            assertEquals(ErrorCode.INVALID_CONFIG, e.error());
        }
    }

    /** The window's entries as "hash/offset" (and "@time" when {@code withTime}), oldest first. */
    static List<String> window(PartitionLog p, boolean withTime) {
        List<String> out = new ArrayList<>();
        p.keyWindow().forEachOldestFirst((h, o, t) -> out.add(h + "/" + o + (withTime ? "@" + t : "")));
        return out;
    }

    @Test
    void theWindowAfterACleanRestartOrACrashEqualsTheWindowBefore() throws IOException {
        TestConfig c = config(400);
        c.segmentBytes = 4096; // many rolls: snapshots at each, replay of the tail after the last
        try (LogFixture log = new LogFixture(dir, c)) {
            java.util.Random r = new java.util.Random(11);
            for (int b = 0; b < 200; b++) {
                String[] keys = new String[1 + r.nextInt(5)];
                for (int k = 0; k < keys.length; k++) {
                    keys[k] = r.nextInt(8) == 0 ? null : "key-" + r.nextInt(600);
                }
                log.appendOk(batch(-1, -1, -1, keys));
                log.clock.advance(r.nextInt(200));
            }
            log.store.flushOnce();
            assertTrue(log.partition().segments().length > 3, "rolled");
            List<String> before = window(log.partition(), true);
            long end = log.partition().logEndOffset();
            log.reopen();
            assertEquals(before, window(log.partition(), true), "clean restart: the snapshot at the log end");
            for (int b = 0; b < 60; b++) {
                log.appendOk(batch(-1, -1, -1, "key-" + r.nextInt(600), "key-" + r.nextInt(600)));
                log.clock.advance(r.nextInt(200));
            }
            log.store.flushOnce();
            before = window(log.partition(), true);
            end = log.partition().logEndOffset();
            log.crashAndReopen();
            assertEquals(end, log.partition().logEndOffset());
            List<String> hashesAndOffsets = new ArrayList<>();
            for (String e : before) {
                hashesAndOffsets.add(e.substring(0, e.indexOf('@')));
            }
            assertEquals(hashesAndOffsets, window(log.partition(), false),
                "crash: the last roll's snapshot plus the replayed tail");
            assertTrue(java.nio.file.Files.list(log.partitionDir()).anyMatch(f -> f.toString().endsWith(".keys")));
        }
    }
}
