package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded simulation of idempotent producers against a partition that crashes like a machine losing power: whatever
 * was not fsync'd may be cut anywhere, zeroed or replaced by garbage, in every segment (rolled segments whose seal
 * the storage thread had not finished included), and a segment file whose directory entry was never made durable
 * may vanish. Batches count as acknowledged once below the high watermark. After each restart: nothing acknowledged
 * is lost,
 * offsets are contiguous, every surviving batch is where it was, and each producer's retries of its unacknowledged
 * batches are answered as duplicates with their original offsets (if they survived) or appended again (if not) —
 * never both, never twice. A failure names its seed; rerun one with -Didemlog.seed=N; run more seeds with
 * -Didemlog.seeds=N.
 *
 * <p>The simulated producers obey the client's in-flight bound, as every idempotent Kafka client does
 * ({@code max.in.flight.requests.per.connection <= 5}, docs/CLIENT.md): a producer with {@value #MAX_IN_FLIGHT}
 * batches not yet acknowledged sends no more until one is. The server's duplicate window is exactly that many batches
 * per producer, so a retry of an older batch is out of the protocol (and answered OUT_OF_ORDER_SEQUENCE_NUMBER, as
 * Kafka does). Since rolls seal asynchronously, a group commit may leave the high watermark below a roll whose seal
 * is pending, so unacknowledged batches can pile up; without the bound the model sent a sixth one and then retried it
 * after a crash (seed {@value #SIXTH_IN_FLIGHT_SEED}, kept as a regression test).
 */
class CrashRecoverySimulationTest {
    private static final int SEEDS = 12;
    private static final int STEPS = 250;
    private static final int PRODUCERS = 3;
    /** The client's bound on unacknowledged batches per partition, which is the server's duplicate window. */
    private static final int MAX_IN_FLIGHT = 5;
    /** Before the model had the in-flight bound, this seed sent a producer's sixth unacknowledged batch. */
    private static final long SIXTH_IN_FLIGHT_SEED = 7348012488348L;

    @TempDir
    Path dir;
    /** Crashes that hit at least one roll whose seal had not completed (the simulation must exercise them). */
    private int crashesDuringSeals;
    /** Sends that waited because the producer had {@link #MAX_IN_FLIGHT} batches unacknowledged. */
    private int sendsAtTheInFlightBound;

    /** A batch the simulated client sent, and what the log said about it. */
    private static final class Sent {
        final long producerId;
        final int sequence;
        final byte[] bytes;
        long offset = -1L;
        boolean acknowledged;

        Sent(long producerId, int sequence, byte[] bytes) {
            this.producerId = producerId;
            this.sequence = sequence;
            this.bytes = bytes;
        }
    }

    @Test
    void producersNeverLoseAnAcknowledgedBatchNorDuplicateOneAcrossPowerLosses() throws IOException {
        String fixed = System.getProperty("idemlog.seed");
        long base = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        int seeds = fixed != null ? 1 : Integer.getInteger("idemlog.seeds", SEEDS);
        for (int i = 0; i < seeds; i++) {
            long seed = base + i;
            try {
                simulate(seed, dir.resolve("seed-" + seed));
            } catch (AssertionError | IOException | RuntimeException e) {
                fail("simulation failed with seed " + seed + " (rerun with -Didemlog.seed=" + seed + ")", e);
            }
        }
        if (fixed == null) {
            assertTrue(crashesDuringSeals > 0, "no crash hit an unfinished roll: the simulation proves too little");
        }
        System.out.printf("%d seed(s) from %d: %d crashes during seals, %d sends waited at the in-flight bound%n",
            seeds, base, crashesDuringSeals, sendsAtTheInFlightBound);
    }

    @Test
    void theSeedThatSentASixthUnacknowledgedBatch() throws IOException {
        simulate(SIXTH_IN_FLIGHT_SEED, dir.resolve("seed-" + SIXTH_IN_FLIGHT_SEED));
        assertTrue(sendsAtTheInFlightBound > 0, "this seed reaches the in-flight bound");
    }

    /**
     * The case the seed above found, pinned down: a group commit that leaves the high watermark below a roll whose
     * seal is pending, five batches of one producer unacknowledged across that roll, a crash: each retry is a
     * duplicate with its original offset. A sixth batch back is outside the window, and answered as a duplicate
     * too, from the log (a retry older than the window: PartitionApplier's OUT_OF_ORDER case).
     */
    @Test
    void fiveBatchesUnacknowledgedBehindAPendingSealAreDuplicatesAfterACrash() throws IOException {
        TestConfig config = new TestConfig();
        config.segmentBytes = 1500; // about eight of these batches: one roll, five batches after it
        try (LogFixture log = new LogFixture(dir.resolve("window"), config)) {
            List<byte[]> sent = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            int afterRoll = 0;
            for (int sequence = 0; afterRoll < 5; sequence++) {
                assertTrue(sequence < 100, "no roll after 100 batches");
                ByteBuffer batch = Batches.withValueSize(7L, 0, sequence, 1, 1000L + sequence, 100);
                sent.add(Batches.bytes(batch));
                offsets.add(log.appendOk(batch).baseOffset());
                if (log.partition().pendingSeals() == 0) {
                    log.store.commitOnce(); // acknowledged: no roll yet
                } else {
                    afterRoll++; // the roll's seal is pending: unacknowledged
                }
            }
            log.store.commitOnce(); // fsyncs the new segment, but the high watermark waits for the seal
            PartitionLog p = log.partition();
            assertEquals(1, p.pendingSeals());
            assertTrue(p.highWatermark() == p.logEndOffset() - 5,
                "the high watermark " + p.highWatermark() + " waits below the roll (log end " + p.logEndOffset() + ")");

            log.crashAndReopen();
            assertEquals(offsets.get(offsets.size() - 1) + 1, log.partition().logEndOffset(), "nothing was lost");
            AppendResult sixthBack = log.append(Batches.direct(sent.get(sent.size() - 6)));
            assertEquals(AppendResult.duplicate(offsets.get(offsets.size() - 6), offsets.get(offsets.size() - 6)),
                sixthBack, "a sixth batch back is outside the window, yet found in the log");
            for (int i = sent.size() - 5; i < sent.size(); i++) {
                AppendResult r = log.append(Batches.direct(sent.get(i)));
                assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
                assertTrue(r.duplicate(), "retry of batch " + i + " is a duplicate");
                assertEquals(offsets.get(i), r.baseOffset(), "answered with its original offset");
            }
        }
    }

    private static int unacknowledged(List<Sent> sent) {
        int n = 0;
        for (Sent s : sent) {
            if (!s.acknowledged) {
                n++;
            }
        }
        return n;
    }

    private void simulate(long seed, Path dataDir) throws IOException {
        Random random = new Random(seed);
        TestConfig config = new TestConfig();
        config.segmentBytes = 600 + random.nextInt(2000);
        config.indexIntervalBytes = random.nextInt(300);
        LogFixture log = new LogFixture(dataDir, config);
        // The power-loss model: per open segment file, the size it had at its last fsync. Bytes past it may be
        // lost; a file still named .log.pending was never made durable in its directory and may vanish.
        Map<FileChannel, Long> fsynced = new IdentityHashMap<>();
        log.io.afterForce = (channel, size) -> fsynced.merge(channel, size, Math::max);
        try {
            List<Sent> logModel = new ArrayList<>();
            List<List<Sent>> byProducer = new ArrayList<>();
            int[] nextSequence = new int[PRODUCERS];
            for (int p = 0; p < PRODUCERS; p++) {
                byProducer.add(new ArrayList<>());
            }
            markAllDurable(log, fsynced);
            int sinceFlush = 0;
            for (int step = 0; step < STEPS; step++) {
                int action = random.nextInt(100);
                if (action < 70 && sinceFlush < 4) {
                    int p = random.nextInt(PRODUCERS);
                    int records = 1 + random.nextInt(3);
                    ByteBuffer batch = Batches.withValueSize(p, 0, nextSequence[p], records, 1000L + step,
                        5 + random.nextInt(60));
                    if (unacknowledged(byProducer.get(p)) >= MAX_IN_FLIGHT) {
                        sendsAtTheInFlightBound++; // the client waits for an acknowledgement first
                        continue;
                    }
                    Sent sent = new Sent(p, nextSequence[p], Batches.bytes(batch));
                    AppendResult r = log.appendOk(batch);
                    assertEquals(log.partition().logEndOffset() - records, r.baseOffset());
                    sent.offset = r.baseOffset();
                    logModel.add(sent);
                    byProducer.get(p).add(sent);
                    nextSequence[p] += records;
                    sinceFlush++;
                } else if (action < 80) {
                    log.store.flushOnce(); // seals and a group commit
                    acknowledge(log, logModel);
                    sinceFlush = 0;
                } else if (action < 90) {
                    log.store.commitOnce(); // a group commit while rolls may still wait for their seal
                    acknowledge(log, logModel);
                    sinceFlush = 0;
                } else {
                    LogSegment[] segments = log.partition().segments();
                    List<Path> files = new ArrayList<>();
                    List<Long> durable = new ArrayList<>();
                    List<Boolean> pending = new ArrayList<>();
                    for (LogSegment segment : segments) {
                        files.add(segment.path());
                        durable.add(fsynced.getOrDefault(segment.channel(), 0L));
                        pending.add(segment.pendingName());
                    }
                    if (pending.contains(true)) {
                        crashesDuringSeals++;
                    }
                    log.store.abandon();
                    fsynced.clear();
                    for (int i = 0; i < files.size(); i++) {
                        if (pending.get(i) && random.nextInt(4) == 0) {
                            Files.delete(files.get(i)); // its directory entry never became durable
                        } else {
                            damage(files.get(i), durable.get(i), random);
                        }
                    }
                    log.open();
                    markAllDurable(log, fsynced);
                    sinceFlush = 0;
                    checkAfterRestart(log, logModel, byProducer, nextSequence);
                    acknowledge(log, logModel);
                }
            }
            log.reopen();
            checkAfterRestart(log, logModel, byProducer, nextSequence);
        } finally {
            log.close();
        }
    }

    /** What the client learns: every batch below the high watermark is acknowledged (acks=all). */
    private static void acknowledge(LogFixture log, List<Sent> logModel) {
        long highWatermark = log.partition().highWatermark();
        for (Sent s : logModel) {
            if (s.offset + new RecordBatch(ByteBuffer.wrap(s.bytes), 0).recordsCount() <= highWatermark) {
                s.acknowledged = true;
            }
        }
    }

    /** After a restart everything on disk was fsync'd by recovery. */
    private static void markAllDurable(LogFixture log, Map<FileChannel, Long> fsynced) throws IOException {
        for (LogSegment segment : log.partition().segments()) {
            fsynced.put(segment.channel(), segment.channel().size());
        }
    }

    /** Power loss: the bytes after {@code from} may be cut at any point, zeroed, or turned into garbage. */
    private static void damage(Path file, long from, Random random) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long size = channel.size();
            if (size <= from) {
                return;
            }
            long cut = from + (long) (random.nextDouble() * (size - from + 1));
            switch (random.nextInt(3)) {
                case 0 -> channel.truncate(cut);
                case 1 -> channel.write(ByteBuffer.allocate((int) (size - cut) + random.nextInt(50)), cut);
                default -> {
                    byte[] garbage = new byte[(int) (size - cut) + random.nextInt(50)];
                    random.nextBytes(garbage);
                    channel.write(ByteBuffer.wrap(garbage), cut);
                }
            }
        }
    }

    private static void checkAfterRestart(LogFixture log, List<Sent> logModel, List<List<Sent>> byProducer,
                                          int[] nextSequence) throws IOException {
        PartitionLog p = log.partition();
        long end = p.logEndOffset();
        assertEquals(end, p.highWatermark(), "after a restart the high watermark is the log end");
        // nothing acknowledged was lost, and the survivors are exactly a prefix of what was appended
        long acknowledgedEnd = 0L;
        for (Sent s : logModel) {
            if (s.acknowledged) {
                acknowledgedEnd = s.offset + new RecordBatch(ByteBuffer.wrap(s.bytes), 0).recordsCount();
            }
        }
        assertTrue(end >= acknowledgedEnd, "lost acknowledged data: end " + end + " < " + acknowledgedEnd);
        List<Sent> survivors = new ArrayList<>();
        for (Sent s : logModel) {
            if (s.offset < end) {
                survivors.add(s);
            }
        }
        assertEquals(survivors, readBack(p, logModel), "the log holds exactly the surviving prefix");

        // each producer retries, in order, what it has no acknowledgement for (at most MAX_IN_FLIGHT batches)
        List<Sent> lost = new ArrayList<>(logModel.subList(survivors.size(), logModel.size()));
        logModel.retainAll(survivors);
        for (int producer = 0; producer < byProducer.size(); producer++) {
            List<Sent> mine = byProducer.get(producer);
            assertTrue(unacknowledged(mine) <= MAX_IN_FLIGHT, "the model kept the client's in-flight bound");
            for (Sent s : mine) {
                if (s.acknowledged) {
                    continue;
                }
                AppendResult r = log.append(Batches.direct(s.bytes));
                assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
                if (lost.contains(s)) {
                    assertTrue(!r.duplicate(), "a lost batch must be appended again, not called a duplicate");
                    s.offset = r.baseOffset();
                    logModel.add(s);
                } else {
                    assertTrue(r.duplicate(), "a surviving batch must be a duplicate");
                    assertEquals(s.offset, r.baseOffset(), "a duplicate is answered with its original offset");
                }
            }
            if (!mine.isEmpty()) {
                Sent last = mine.get(mine.size() - 1);
                nextSequence[producer] = last.sequence
                    + new RecordBatch(ByteBuffer.wrap(last.bytes), 0).recordsCount();
            }
        }
        logModel.sort((a, b) -> Long.compare(a.offset, b.offset));
        log.store.flushOnce();
    }

    /** Reads the whole log back and maps each batch to what the model sent (by producer and sequence). */
    private static List<Sent> readBack(PartitionLog p, List<Sent> logModel) throws IOException {
        List<Sent> found = new ArrayList<>();
        long offset = p.logStartOffset();
        while (offset < p.highWatermark()) {
            ReadResult r = p.read(offset, Integer.MAX_VALUE);
            assertEquals(ErrorCode.NONE, r.error());
            ByteBuffer bytes = ByteBuffer.allocate(r.size());
            while (bytes.hasRemaining()) {
                r.channel().read(bytes, r.position() + bytes.position());
            }
            RecordBatch batch = new RecordBatch();
            for (int at = 0; at < r.size(); at += batch.sizeInBytes()) {
                batch.wrap(bytes, at);
                assertTrue(batch.isCrcValid());
                assertEquals(offset, batch.baseOffset(), "offsets are contiguous");
                Sent match = null;
                for (Sent s : logModel) {
                    if (s.producerId == batch.producerId() && s.sequence == batch.baseSequence()) {
                        match = s;
                    }
                }
                assertTrue(match != null, "a batch nobody sent: " + batch);
                assertEquals(match.offset, batch.baseOffset());
                found.add(match);
                offset = batch.lastOffset() + 1;
            }
        }
        return found;
    }
}
