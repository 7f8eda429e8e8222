package io.idemlog.server.log;

import io.idemlog.common.record.CompressedRecords;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.CorruptSnapshotException;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.KeyWindow;
import io.idemlog.server.state.KeyWindowFile;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.LogStartOffsetFile;
import io.idemlog.server.state.ProducerEntryVisitor;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ProducerStateTable;
import io.idemlog.server.state.SlabProducerStateTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.TreeMap;
import java.util.List;

/**
 * Opens a partition directory and recovers it (docs/STORAGE.md, "Recovery"):
 * <ol>
 * <li>delete leftovers: {@code *.deleted} (retention had removed them) and {@code *.tmp} (unfinished atomic
 * writes);</li>
 * <li>open every segment as sealed (index loaded or rebuilt, tail checked, offsets contiguous) except the last, and
 * except, when a segment still has the {@code .log.pending} name of an unfinished roll, the one before it and every
 * later one;</li>
 * <li>validate every batch of those (length, magic, CRC, count, contiguous offsets), truncate at the first bad one
 * (a torn tail) and rebuild its index; fsync it; discard what follows a cut; seal all but the last;</li>
 * <li>delete producer snapshots above the log end; load the newest valid one (a damaged one is deleted and the next
 * older tried), and replay into the producer state only the batches at or after its offset, through the same
 * update as live appends, rejecting nothing (the log is the truth). Producers replayed get the recovery time as
 * their last write time: the batches carry the client's clock only, and restarting must not expire anyone
 * early.</li>
 * <li>when the topic de-duplicates by key: the same for the key window: delete key snapshots above the log end,
 * load the newest valid one taken with the current header name, and replay the keys of the records after it (with
 * the recovery time as their append time, for the same reason: a replayed key's window never ends early). With no
 * usable key snapshot the keys are replayed from the producer replay point only (the tail since the last snapshot),
 * so restart time stays independent of the log's size.</li>
 * </ol>
 * Runs on the thread opening the store, before the partition is visible to anyone.
 */
final class PartitionLoader {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionLoader.class);
    /** Bound on a stored batch's decompressed size when its keys are replayed (produced ones: 16 x the batch limit). */
    private static final long REPLAY_MAX_INFLATED_BYTES = 256L << 20;

    private PartitionLoader() {
    }

    /** A segment file found in the directory: its base offset and whether it still has the pending name. */
    private record SegmentFile(long base, boolean pending) {
    }

    static PartitionLog load(String topic, int index, Path dir, LogContext context) throws IOException {
        return load(topic, index, dir, context, context.config().dedup());
    }

    static PartitionLog load(String topic, int index, Path dir, LogContext context, DedupConfig dedup)
        throws IOException {
        LogConfig config = context.config();
        long nowMs = context.clock().time();
        deleteLeftovers(dir);
        // A damaged log-start-offset file refuses to open the partition (before anything is changed).
        long storedStart = LogStartOffsetFile.readIfExists(dir);
        // So does a damaged leader-epochs file.
        LeaderEpochCache storedEpochs = LeaderEpochFile.readIfExists(dir);
        SegmentFile[] files = segmentFiles(dir);
        BatchScanner scanner = new BatchScanner();
        List<LogSegment> segments = new ArrayList<>(Math.max(1, files.length));
        try {
            if (files.length == 0) {
                segments.add(LogSegment.create(dir, 0L));
                DurableFiles.fsyncDirectory(dir);
            } else {
                // A pending name means the seal of the segment before it had not completed: from there on, every
                // segment may have a torn tail and is recovered like a last segment.
                int firstPending = files.length;
                for (int i = 0; i < files.length; i++) {
                    if (files[i].pending()) {
                        firstPending = i;
                        break;
                    }
                }
                int recoverFrom = firstPending < files.length ? Math.max(0, firstPending - 1) : files.length - 1;
                for (int i = 0; i < recoverFrom; i++) {
                    LogSegment sealed = LogSegment.openSealed(dir, files[i].base(), scanner,
                        config.indexIntervalBytes(), context.metrics());
                    segments.add(sealed);
                    if (sealed.nextOffset() != files[i + 1].base()) {
                        throw new CorruptFileException(sealed.path(), sealed.size(), "the sealed segment ends at "
                            + "offset " + sealed.nextOffset() + " but the next one, " + nameOf(dir, files[i + 1])
                            + ", starts at " + files[i + 1].base() + ": offsets are missing or overlap");
                    }
                }
                recoverTail(topic, index, dir, context, files, recoverFrom, scanner, segments);
                segments.get(segments.size() - 1).clampRollBase(nowMs);
            }
            LogSegment last = segments.get(segments.size() - 1);
            ProducerStateTable producers = new SlabProducerStateTable(config.maxProducersPerPartition(),
                config.producerIdExpirationMs());
            ProducerSnapshotFile.Loaded snapshot = loadSnapshot(dir, last.nextOffset(), producers);
            long logStart = segments.get(0).baseOffset;
            long replayFrom = Math.max(snapshot.logOffset(), logStart);
            // A version 1 snapshot did not record the partition's highest producer id: read it from the batch headers
            // below the snapshot too (once: the next snapshot records it).
            long scanFrom = snapshot.maxProducerId() == ProducerSnapshotFile.MAX_PRODUCER_ID_UNKNOWN ? logStart
                : replayFrom;
            KeyWindow keys = null;
            long keysFrom = Long.MAX_VALUE;
            if (dedup.enabled()) {
                keys = new KeyWindow(dedup.windowMs(), dedup.maxKeys());
                long loaded = loadKeySnapshot(dir, last.nextOffset(), dedup.header(), keys);
                keysFrom = Math.max(loaded >= 0 ? loaded : replayFrom, logStart);
                scanFrom = Math.min(scanFrom, keysFrom);
            } else {
                // Stale key snapshots of an earlier setting would be wrong if de-duplication is turned on again.
                for (long o : KeyWindowFile.list(dir)) {
                    Files.deleteIfExists(KeyWindowFile.path(dir, o));
                }
            }
            DedupFilter filter = keys == null ? null : new DedupFilter(dedup);
            Replayed replayed = replay(segments, scanFrom, replayFrom, producers, scanner, nowMs, keysFrom, keys,
                filter);
            long maxProducerId = Math.max(Math.max(snapshot.maxProducerId(), replayed.maxProducerId()),
                maxEntryId(producers));
            logStart = applyStoredStart(topic, index, dir, segments, storedStart);
            LeaderEpochCache epochs = recoverEpochs(topic, index, dir, segments, storedEpochs);
            LOG.info("{}-{}: log [{}, {}), {} producers ({} batches replayed from offset {}), highest producer id {}"
                    + "{}", topic, index, logStart, last.nextOffset(), producers.size(), replayed.batches(), replayFrom,
                maxProducerId, keys == null ? "" : ", " + keys.size() + " de-duplication keys (" + replayed.keys()
                    + " replayed from offset " + keysFrom + ")");
            return new PartitionLog(topic, index, dir, context, segments, producers, maxProducerId, dedup, keys,
                logStart, epochs);
        } catch (IOException | RuntimeException e) {
            for (LogSegment s : segments) {
                try {
                    s.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * The log start offset after recovery: the one DeleteRecords stored ({@code stored}, -1 for none), at least the
     * first segment's base (retention removes whole segments without writing the file) and at most the log end (a
     * stored start above the recovered end means acknowledged data was lost: logged). Segments entirely below it
     * (but never the last) are removed here: after a crash their renames to *.deleted may not have survived. Runs
     * after the producer-state replay, which reads every segment still on disk.
     */
    private static long applyStoredStart(String topic, int index, Path dir, List<LogSegment> segments, long stored)
        throws IOException {
        LogSegment last = segments.get(segments.size() - 1);
        long start = Math.max(segments.get(0).baseOffset, stored);
        if (start > last.nextOffset()) {
            LOG.warn("{}-{}: {} says the log starts at offset {}, but the log ends at {} after recovery (data was "
                + "lost); the log starts at {}", topic, index, LogStartOffsetFile.path(dir), start, last.nextOffset(),
                last.nextOffset());
            start = last.nextOffset();
        }
        while (segments.size() > 1 && segments.get(0).nextOffset() <= start) {
            LogSegment gone = segments.remove(0);
            LOG.info("{}-{}: removing {}: entirely below the log start offset {}", topic, index,
                gone.path().getFileName(), start);
            gone.close();
            Files.deleteIfExists(gone.path());
            Files.deleteIfExists(LogFiles.indexFile(dir, gone.baseOffset));
        }
        return start;
    }

    /**
     * The leader epochs after recovery: the stored ones without those starting at or after the recovered log end
     * (their first batch did not survive: the file is written before it). With no stored epoch left and data in the
     * log (a directory written before the file existed), one entry: the epoch of the log's first batch (0: what a
     * single node writes) at the first segment's base. The file is rewritten when this changed anything.
     */
    private static LeaderEpochCache recoverEpochs(String topic, int index, Path dir, List<LogSegment> segments,
                                                  LeaderEpochCache stored) throws IOException {
        LeaderEpochCache epochs = stored != null ? stored : new LeaderEpochCache();
        LogSegment first = segments.get(0);
        long logEnd = segments.get(segments.size() - 1).nextOffset();
        boolean changed = epochs.truncateFromEnd(logEnd);
        if (changed) {
            LOG.info("{}-{}: leader epochs cut at the log end {}: {}", topic, index, logEnd, epochs);
        }
        if (epochs.size() == 0 && logEnd > first.baseOffset) {
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            while (header.hasRemaining() && first.channel().read(header, header.position()) > 0) {
                // a header read: the first batch was validated (or is checked by reads) and is at least this long
            }
            int epoch = header.hasRemaining() ? 0 : header.getInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET);
            epochs.assign(Math.max(epoch, 0), first.baseOffset); // a damaged first batch: 0, what was written
            changed = true;
            LOG.info("{}-{}: no {} for a log holding data: leader epochs {} from its first batch", topic, index,
                LeaderEpochFile.FILE_NAME, epochs);
        }
        if (changed) {
            LeaderEpochFile.write(dir, epochs);
        }
        return epochs;
    }

    private static void deleteLeftovers(Path dir) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(LogFiles.DELETED_SUFFIX) || name.endsWith(DurableFiles.TMP_SUFFIX)) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /**
     * Recovers the segments from {@code from} on as possibly torn: each validated batch by batch and cut at the first
     * bad one (see {@link LogSegment#recoverActive}); once one is cut, or does not end where the next begins, the
     * rest cannot follow it and is discarded (nothing in it was acknowledged: the high watermark never passes a roll
     * whose seal is not durable). The survivors but the last are then sealed, every pending name dropped, and the
     * directory fsync'd.
     */
    private static void recoverTail(String topic, int index, Path dir, LogContext context, SegmentFile[] files,
                                    int from, BatchScanner scanner, List<LogSegment> segments) throws IOException {
        LogConfig config = context.config();
        int end = files.length;
        for (int i = from; i < end; i++) {
            LogSegment segment = LogSegment.recoverActive(dir, files[i].base(), pathOf(dir, files[i]), scanner,
                config.indexIntervalBytes(), context.io());
            segments.add(segment);
            LogSegment.ScanResult scan = segment.lastScan();
            boolean zeros = scan.truncated() && LogSegment.PREALLOCATED.equals(scan.problem());
            if (zeros) {
                LOG.info("{}-{}: cut {} bytes of preallocated zeros after the last batch of {}", topic, index,
                    scan.fileBytes() - scan.validBytes(), segment.path().getFileName());
            } else if (scan.truncated()) {
                LOG.warn("{}-{}: truncated {} at byte {} of {} ({}); the log now ends at offset {}", topic, index,
                    segment.path().getFileName(), scan.validBytes(), scan.fileBytes(), scan.problem(),
                    segment.nextOffset());
            }
            boolean last = i == end - 1;
            if (!last && ((scan.truncated() && !zeros) || segment.nextOffset() != files[i + 1].base())) {
                for (int j = i + 1; j < end; j++) {
                    Path discarded = pathOf(dir, files[j]);
                    LOG.warn("{}-{}: discarding {}: the segment before it ends at offset {}, where it should have "
                        + "started at {} (a crash during the roll; nothing in it was acknowledged)", topic, index,
                        discarded.getFileName(), segment.nextOffset(), files[j].base());
                    Files.deleteIfExists(discarded);
                    Files.deleteIfExists(LogFiles.indexFile(dir, files[j].base()));
                }
                end = i + 1;
            }
        }
        for (int i = from; i < end; i++) {
            LogSegment segment = segments.get(i);
            if (i < end - 1) {
                segment.writeIndexFile(); // sealed now: its index as the scan rebuilt it
            } else {
                // The active segment's index is rebuilt in memory; an old file would only mislead.
                Files.deleteIfExists(LogFiles.indexFile(dir, segment.baseOffset));
            }
            segment.dropPendingName();
        }
        DurableFiles.fsyncDirectory(dir);
    }

    private static Path pathOf(Path dir, SegmentFile file) {
        return file.pending() ? LogFiles.pendingLogFile(dir, file.base()) : LogFiles.logFile(dir, file.base());
    }

    private static String nameOf(Path dir, SegmentFile file) {
        return pathOf(dir, file).getFileName().toString();
    }

    /** The segment files, by base offset; a base offset with both names is refused. */
    private static SegmentFile[] segmentFiles(Path dir) throws IOException {
        TreeMap<Long, Boolean> found = new TreeMap<>();
        String pendingSuffix = LogFiles.LOG_SUFFIX + LogFiles.PENDING_SUFFIX;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                boolean pending = name.endsWith(pendingSuffix);
                long base = LogFiles.parseOffset(name, pending ? pendingSuffix : LogFiles.LOG_SUFFIX);
                if (base < 0) {
                    continue;
                }
                if (found.put(base, pending) != null) {
                    throw new CorruptFileException(file, -1L, "both " + LogFiles.logFile(dir, base).getFileName()
                        + " and " + LogFiles.pendingLogFile(dir, base).getFileName() + " exist; one is a stray copy");
                }
            }
        }
        SegmentFile[] result = new SegmentFile[found.size()];
        int i = 0;
        for (var e : found.entrySet()) {
            result[i++] = new SegmentFile(e.getKey(), e.getValue());
        }
        return result;
    }

    /**
     * Loads the newest usable snapshot at or below {@code logEnd}; returns what it said, or offset 0 with no producer
     * when there is none.
     */
    private static ProducerSnapshotFile.Loaded loadSnapshot(Path dir, long logEnd, ProducerStateTable producers)
        throws IOException {
        ProducerSnapshotFile.deleteAbove(dir, logEnd);
        long[] offsets = ProducerSnapshotFile.list(dir);
        for (int i = offsets.length - 1; i >= 0; i--) {
            Path file = ProducerSnapshotFile.path(dir, offsets[i]);
            try {
                ProducerSnapshotFile.Loaded loaded = ProducerSnapshotFile.load(file, producers);
                if (loaded.logOffset() != offsets[i]) {
                    throw new CorruptSnapshotException(file, ProducerSnapshotFile.LOG_OFFSET_OFFSET,
                        "holds the state at offset " + loaded.logOffset() + ", not the one its name says");
                }
                return loaded;
            } catch (CorruptSnapshotException e) {
                LOG.warn("ignoring and deleting a damaged producer snapshot: {}", e.getMessage());
                producers.clear();
                Files.deleteIfExists(file);
            }
        }
        return new ProducerSnapshotFile.Loaded(0L, -1L);
    }

    /**
     * Loads the newest usable key snapshot at or below {@code logEnd} taken with {@code header}; returns its offset,
     * or -1 when there is none. Damaged ones are deleted; another header's are skipped.
     */
    private static long loadKeySnapshot(Path dir, long logEnd, String header, KeyWindow keys) throws IOException {
        KeyWindowFile.deleteAbove(dir, logEnd);
        long[] offsets = KeyWindowFile.list(dir);
        for (int i = offsets.length - 1; i >= 0; i--) {
            Path file = KeyWindowFile.path(dir, offsets[i]);
            try {
                KeyWindowFile.Loaded loaded = KeyWindowFile.load(file, header, keys);
                if (loaded == null) {
                    continue;
                }
                if (loaded.logOffset() != offsets[i]) {
                    throw new CorruptSnapshotException(file, 8, "holds the keys at offset " + loaded.logOffset()
                        + ", not the one its name says");
                }
                return loaded.logOffset();
            } catch (CorruptSnapshotException e) {
                LOG.warn("ignoring and deleting a damaged key window snapshot: {}", e.getMessage());
                keys.clear();
                Files.deleteIfExists(file);
            }
        }
        return -1L;
    }

    /** What a replay did: batches applied to the producer state, the highest producer id seen, keys entered. */
    private record Replayed(int batches, long maxProducerId, int keys) {
    }

    /**
     * Replays the producer fields of every batch at or after {@code from} into {@code producers}, and finds the
     * highest producer id of the batches at or after {@code scanFrom} (at most {@code from}).
     */
    private static Replayed replay(List<LogSegment> segments, long scanFrom, long from, ProducerStateTable producers,
                                   BatchScanner scanner, long nowMs, long keysFrom, KeyWindow keys,
                                   DedupFilter filter) throws IOException {
        int replayed = 0;
        int keysReplayed = 0;
        long maxProducerId = -1L;
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        CompressedRecords inflater = null; // the first compressed batch with keys creates it
        RecordBatch inflated = new RecordBatch();
        for (LogSegment segment : segments) {
            if (segment.nextOffset() <= scanFrom) {
                continue;
            }
            int start = scanFrom <= segment.baseOffset ? 0 : segment.findBatch(scanFrom, header);
            if (start < 0) {
                continue;
            }
            scanner.open(segment.channel(), start, segment.size());
            boolean check = !segment.verifiedWhole();
            while (scanner.next() == BatchScanner.Status.BATCH) {
                RecordBatch batch = scanner.batch();
                String damage = check ? LogSegment.invalidStoredBatch(batch, batch.baseOffset()) : null;
                if (damage != null) {
                    // A sealed segment opened from its index is checked by reads, not at open; its producer fields
                    // are not replayed past damage (they may be the damaged bytes). Reads will report it.
                    LOG.warn("{}: not replaying producer state from byte {} of {} on: {}", segment.path().getParent()
                        .getFileName(), scanner.position(), segment.path().getFileName(), damage);
                    break;
                }
                long producerId = batch.producerId();
                maxProducerId = Math.max(maxProducerId, producerId);
                if (batch.baseOffset() >= from && producerId >= 0) {
                    producers.update(producerId, batch.producerEpoch(), batch.baseSequence(),
                        batch.lastOffsetDelta(), batch.baseOffset(), nowMs);
                    replayed++;
                }
                if (keys != null && batch.baseOffset() >= keysFrom && batch.recordsCount() > 0) {
                    if (batch.compression() == 0) {
                        keysReplayed += filter.replay(batch, keys, nowMs);
                    } else {
                        if (inflater == null) {
                            inflater = new CompressedRecords();
                        }
                        if (inflater.inflate(batch, REPLAY_MAX_INFLATED_BYTES) == CompressedRecords.Result.VALID) {
                            keysReplayed += filter.replay(inflated.wrap(inflater.inflated(), 0), keys, nowMs);
                        } else {
                            LOG.warn("{}: the keys of the compressed batch at offset {} of {} are not replayed: {}",
                                segment.path().getParent().getFileName(), batch.baseOffset(),
                                segment.path().getFileName(), inflater.reason());
                        }
                    }
                }
            }
        }
        return new Replayed(replayed, maxProducerId, keysReplayed);
    }

    /** Highest producer id held by the table, or -1. */
    private static long maxEntryId(ProducerStateTable producers) {
        long[] max = {-1L};
        producers.forEachOldestFirst(new ProducerEntryVisitor() {
            @Override
            public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                max[0] = Math.max(max[0], producerId);
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
            }
        });
        return max[0];
    }
}
