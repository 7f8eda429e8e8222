package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.server.state.CorruptSnapshotException;
import io.idemlog.server.state.DurableFiles;
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
import java.util.Arrays;
import java.util.List;

/**
 * Opens a partition directory and recovers it (docs/STORAGE.md, "Recovery"):
 * <ol>
 * <li>delete leftovers: {@code *.deleted} (retention had removed them) and {@code *.tmp} (unfinished atomic
 * writes);</li>
 * <li>open every segment but the last as sealed (index loaded or rebuilt, tail checked, offsets contiguous);</li>
 * <li>validate every batch of the last segment (length, magic, CRC, count, contiguous offsets), truncate at the
 * first bad one (a torn tail) and rebuild its index; fsync it;</li>
 * <li>delete producer snapshots above the log end; load the newest valid one (a damaged one is deleted and the next
 * older tried), and replay into the producer state only the batches at or after its offset, through the same
 * update as live appends, rejecting nothing (the log is the truth). Producers replayed get the recovery time as
 * their last write time: the batches carry the client's clock only, and restarting must not expire anyone
 * early.</li>
 * </ol>
 * Runs on the thread opening the store, before the partition is visible to anyone.
 */
final class PartitionLoader {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionLoader.class);

    private PartitionLoader() {
    }

    static PartitionLog load(String topic, int index, Path dir, LogContext context) throws IOException {
        LogConfig config = context.config();
        long nowMs = context.clock().time();
        deleteLeftovers(dir);
        long[] bases = segmentBases(dir);
        BatchScanner scanner = new BatchScanner();
        List<LogSegment> segments = new ArrayList<>(Math.max(1, bases.length));
        try {
            if (bases.length == 0) {
                segments.add(LogSegment.create(dir, 0L));
                DurableFiles.fsyncDirectory(dir);
            } else {
                for (int i = 0; i < bases.length - 1; i++) {
                    LogSegment sealed = LogSegment.openSealed(dir, bases[i], scanner, config.indexIntervalBytes());
                    segments.add(sealed);
                    if (sealed.nextOffset() != bases[i + 1]) {
                        throw new IOException(sealed + " ends at offset " + sealed.nextOffset()
                            + " but the next segment starts at " + bases[i + 1]);
                    }
                }
                long lastBase = bases[bases.length - 1];
                LogSegment last = LogSegment.recoverActive(dir, lastBase, scanner, config.indexIntervalBytes(),
                    context.io());
                segments.add(last);
                LogSegment.ScanResult scan = last.lastScan();
                if (scan.truncated() && LogSegment.PREALLOCATED.equals(scan.problem())) {
                    LOG.info("{}-{}: cut {} bytes of preallocated zeros after the last batch of {}", topic, index,
                        scan.fileBytes() - scan.validBytes(), last.path().getFileName());
                } else if (scan.truncated()) {
                    LOG.warn("{}-{}: truncated {} at byte {} of {} ({}); the log now ends at offset {}", topic, index,
                        last.path().getFileName(), scan.validBytes(), scan.fileBytes(), scan.problem(),
                        last.nextOffset());
                }
                // The active segment's index is rebuilt above; an old file would only mislead.
                Files.deleteIfExists(LogFiles.indexFile(dir, lastBase));
                last.clampRollBase(nowMs);
            }
            LogSegment last = segments.get(segments.size() - 1);
            ProducerStateTable producers = new SlabProducerStateTable(config.maxProducersPerPartition(),
                config.producerIdExpirationMs());
            long replayFrom = loadSnapshot(dir, last.nextOffset(), producers);
            replayFrom = Math.max(replayFrom, segments.get(0).baseOffset);
            int replayed = replay(segments, replayFrom, producers, scanner, nowMs);
            LOG.info("{}-{}: log [{}, {}), {} producers ({} batches replayed from offset {})", topic, index,
                segments.get(0).baseOffset, last.nextOffset(), producers.size(), replayed, replayFrom);
            return new PartitionLog(topic, index, dir, context, segments, producers);
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

    private static long[] segmentBases(Path dir) throws IOException {
        long[] bases = new long[8];
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + LogFiles.LOG_SUFFIX)) {
            for (Path file : files) {
                long base = LogFiles.parseOffset(file.getFileName().toString(), LogFiles.LOG_SUFFIX);
                if (base >= 0) {
                    if (n == bases.length) {
                        bases = Arrays.copyOf(bases, 2 * n);
                    }
                    bases[n++] = base;
                }
            }
        }
        long[] result = Arrays.copyOf(bases, n);
        Arrays.sort(result);
        return result;
    }

    /** Loads the newest usable snapshot at or below {@code logEnd}; returns its offset, or 0 when there is none. */
    private static long loadSnapshot(Path dir, long logEnd, ProducerStateTable producers) throws IOException {
        ProducerSnapshotFile.deleteAbove(dir, logEnd);
        long[] offsets = ProducerSnapshotFile.list(dir);
        for (int i = offsets.length - 1; i >= 0; i--) {
            Path file = ProducerSnapshotFile.path(dir, offsets[i]);
            try {
                long offset = ProducerSnapshotFile.load(file, producers);
                if (offset != offsets[i]) {
                    throw new CorruptSnapshotException(file + " holds the state at offset " + offset);
                }
                return offset;
            } catch (CorruptSnapshotException e) {
                LOG.warn("ignoring and deleting a damaged producer snapshot: {}", e.getMessage());
                producers.clear();
                Files.deleteIfExists(file);
            }
        }
        return 0L;
    }

    /** Replays the producer fields of every batch at or after {@code from} into {@code producers}. */
    private static int replay(List<LogSegment> segments, long from, ProducerStateTable producers,
                              BatchScanner scanner, long nowMs) throws IOException {
        int replayed = 0;
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        for (LogSegment segment : segments) {
            if (segment.nextOffset() <= from) {
                continue;
            }
            int start = from <= segment.baseOffset ? 0 : segment.findBatch(from, header);
            if (start < 0) {
                continue;
            }
            scanner.open(segment.channel(), start, segment.size());
            while (scanner.next() == BatchScanner.Status.BATCH) {
                RecordBatch batch = scanner.batch();
                if (batch.baseOffset() >= from && batch.producerId() >= 0) {
                    producers.update(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                        batch.lastOffsetDelta(), batch.baseOffset(), nowMs);
                    replayed++;
                }
            }
        }
        return replayed;
    }
}
