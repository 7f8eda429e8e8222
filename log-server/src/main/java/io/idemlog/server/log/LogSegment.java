package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.DurableFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One segment of a partition log: the {@code .log} file holding whole batches exactly as produced (baseOffset and
 * partitionLeaderEpoch patched), back to back, from {@link #baseOffset}; and its sparse {@link SegmentIndex}.
 *
 * <p>Threads: {@link #append} and the life-cycle methods run under the partition lock; the read methods
 * ({@link #findBatch}, {@link #readableBytes}, {@link #findTimestamp}) run on any thread, concurrently, with
 * positional reads below {@link #size()}, which is published only after the bytes under it are written.
 *
 * <p>Invariant kept by the partition: every segment but the last (the active one) is sealed, i.e. its data and its
 * index were fsync'd when the next one was created. Only the last segment can have a torn tail after a crash.
 */
final class LogSegment {
    /** What recovery found at the end of the validated range. */
    record ScanResult(long validBytes, long fileBytes, String problem) {
        boolean truncated() {
            return validBytes < fileBytes;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(LogSegment.class);

    final long baseOffset;
    private final Path dir;
    private final FileChannel channel;
    /** Replaced (once, by {@link #rebuildIndex}) when an entry of a loaded index turns out not to hold its batch. */
    private volatile SegmentIndex index;
    private volatile Path logPath;
    private volatile int size;
    private volatile long nextOffset;
    /**
     * Offsets below this are fsync'd in this file. Written by the partition's commit-lock holder only (group commit,
     * seal); a segment loaded at start is durable up to its end (recovery fsync'd what it kept).
     */
    private volatile long flushedEnd;
    private volatile long maxTimestamp = -1L;
    /** Server time of the first append (or of the first batch's timestamp after a restart); -1 while empty. */
    private long rollBaseMs = -1L;
    private int bytesSinceIndexEntry;
    /**
     * End of what the file holds: the data, then zeros written ahead by {@link #preallocate} (under the partition
     * lock). Writes below it overwrite allocated blocks, so their fsync commits no file-size metadata.
     */
    private long allocatedEnd;
    /** Set when zero-filling failed (e.g. a full disk): the segment then simply grows as it is written. */
    private boolean preallocationFailed;
    /** What {@link #recoverActive} found, for the log message; null otherwise. */
    private ScanResult lastScan;
    /**
     * Whether every batch of the file was checked (framing, CRC, offsets) by this process: true for segments it
     * wrote (appends are checked before they are written) and for those it recovered or rebuilt by a full scan;
     * false for sealed segments opened from their index, which reads check chunk by chunk.
     */
    private volatile boolean verifiedWhole;
    /**
     * For a segment not verified whole: the byte range of it that reads have checked (framing, offsets, CRC), as one
     * island that a sequential reader extends; and the first damaged position found (no byte at or after it is
     * served). See {@link #checkServed}.
     */
    private volatile Verified verified;
    private volatile int damagedAt = Integer.MAX_VALUE;
    /** Counters for the damage found by reads; null for the segments this process wrote or scanned whole. */
    private StorageMetrics metrics;
    /** Set when {@link #rebuildIndex} replaced a wrong index read from the file: a clean close rewrites the file. */
    private volatile boolean indexFileStale;
    /** The index interval, to rebuild an index found wrong the way it was built. */
    private int indexIntervalBytes = 4096;

    /** A checked byte range [start, end) of the file whose batches hold offsets [.., nextOffset). */
    private record Verified(int start, int end, long nextOffset) {
    }

    /** Returned by {@link #findBatch} and {@link #readableBytes} when the batch asked for is damaged. */
    static final int DAMAGED = -2;

    /** One scanner per reading thread, for the checks of sealed segments on read (a 1 MiB buffer, reused). */
    private static final ThreadLocal<BatchScanner> READ_SCANNERS = ThreadLocal.withInitial(BatchScanner::new);

    private LogSegment(Path dir, long baseOffset, Path logPath, FileChannel channel, SegmentIndex index) {
        this.dir = dir;
        this.baseOffset = baseOffset;
        this.channel = channel;
        this.index = index;
        this.logPath = logPath;
        this.nextOffset = baseOffset;
        this.flushedEnd = baseOffset;
        this.verified = new Verified(0, 0, baseOffset);
    }

    /** Creates a new, empty segment file (which must not exist yet) under its final name. */
    static LogSegment create(Path dir, long baseOffset) throws IOException {
        return create(dir, baseOffset, LogFiles.logFile(dir, baseOffset));
    }

    /**
     * Creates the segment that a roll starts, named {@code .log.pending} until the previous segment's seal is
     * durable ({@link #dropPendingName}). A metadata operation only: no fsync on the rolling thread.
     */
    static LogSegment createAfterRoll(Path dir, long baseOffset) throws IOException {
        return create(dir, baseOffset, LogFiles.pendingLogFile(dir, baseOffset));
    }

    private static LogSegment create(Path dir, long baseOffset, Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        LogSegment segment = new LogSegment(dir, baseOffset, file, channel, new SegmentIndex());
        segment.verifiedWhole = true; // everything appended to it is checked first
        return segment;
    }

    /**
     * Renames a {@code .log.pending} segment to its final name (durable with the caller's directory fsync). Reads
     * and appends in flight are unaffected: they use the open channel.
     */
    void dropPendingName() throws IOException {
        Path current = logPath;
        Path sealedName = LogFiles.logFile(dir, baseOffset);
        if (!current.equals(sealedName)) {
            Files.move(current, sealedName, StandardCopyOption.ATOMIC_MOVE);
            logPath = sealedName;
        }
    }

    /** Whether the file still has its {@code .log.pending} name. */
    boolean pendingName() {
        return !logPath.equals(LogFiles.logFile(dir, baseOffset));
    }

    /**
     * Opens a sealed segment: loads its index (rebuilding it from the log when the file is missing or implausible)
     * and reads the batches after the last index entry to learn the segment's end offset and newest timestamp.
     *
     * @throws IOException also when the segment is damaged: sealed segments were fsync'd before the next one was
     *                     created, so damage here is not a torn write but lost data, which needs an operator
     */
    static LogSegment openSealed(Path dir, long baseOffset, BatchScanner scanner, int indexIntervalBytes,
                                 StorageMetrics metrics) throws IOException {
        Path logPath = LogFiles.logFile(dir, baseOffset);
        FileChannel channel = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long fileSize = channel.size();
            if (fileSize > Integer.MAX_VALUE) {
                throw new CorruptFileException(logPath, -1L, "larger than 2 GiB (" + fileSize + " bytes)");
            }
            SegmentIndex index = null;
            Path indexPath = LogFiles.indexFile(dir, baseOffset);
            if (Files.exists(indexPath)) {
                try (FileChannel indexChannel = FileChannel.open(indexPath, StandardOpenOption.READ)) {
                    index = SegmentIndex.load(indexChannel, indexPath.toString(), (int) fileSize);
                } catch (CorruptFileException e) {
                    LOG.warn("rebuilding the index of {} from the log: {}", logPath.getFileName(), e.getMessage());
                }
            } else {
                LOG.warn("rebuilding the missing index {} from the log", indexPath);
            }
            if (index != null) {
                LogSegment segment = new LogSegment(dir, baseOffset, logPath, channel, index);
                segment.metrics = metrics;
                segment.indexIntervalBytes = indexIntervalBytes;
                ScanResult tail = segment.scanTail(scanner);
                if (!tail.truncated()) {
                    segment.flushedEnd = segment.nextOffset;
                    return segment;
                }
                if (tail.problem().startsWith(LAST_ENTRY_WRONG)) {
                    metrics.badIndexEntries.increment();
                }
                // The index looked plausible but does not lead to a clean end: do not trust it, rebuild it.
                LOG.warn("rebuilding the index {}: from its last entry the log does not end cleanly ({} at byte {})",
                    indexPath, tail.problem(), tail.validBytes());
            }
            LogSegment segment = new LogSegment(dir, baseOffset, logPath, channel, new SegmentIndex());
            ScanResult result = segment.scan(scanner, 0, baseOffset, indexIntervalBytes, true);
            if (result.truncated()) {
                throw new CorruptFileException(logPath, result.validBytes(), result.problem() + " in a sealed segment of "
                    + result.fileBytes() + " bytes (offsets " + baseOffset + " to " + segment.nextOffset
                    + " are intact): sealed segments were fsync'd before the next one was started, so this is "
                    + "damage, not a torn write; refusing to open the partition rather than lose what follows");
            }
            segment.verifiedWhole = true;
            segment.flushedEnd = segment.nextOffset;
            segment.writeIndexFile();
            DurableFiles.fsyncDirectory(dir);
            return segment;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Opens the last segment after a restart: validates every batch (length, magic, CRC, record count, contiguous
     * offsets), truncates the file at the first bad one (a torn tail), and rebuilds the index.
     */
    static LogSegment recoverActive(Path dir, long baseOffset, Path logPath, BatchScanner scanner,
                                    int indexIntervalBytes, StorageIo io) throws IOException {
        FileChannel channel = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long fileSize = channel.size();
            if (fileSize > Integer.MAX_VALUE) {
                throw new CorruptFileException(logPath, -1L, "larger than 2 GiB (" + fileSize + " bytes)");
            }
            LogSegment segment = new LogSegment(dir, baseOffset, logPath, channel, new SegmentIndex());
            ScanResult result = segment.scan(scanner, 0, baseOffset, indexIntervalBytes, true);
            if (result.truncated()) {
                if (zeros(channel, result.validBytes(), result.fileBytes())) {
                    result = new ScanResult(result.validBytes(), result.fileBytes(), PREALLOCATED);
                }
                channel.truncate(result.validBytes());
            }
            io.force(channel);
            segment.allocatedEnd = result.validBytes();
            segment.lastScan = result;
            segment.verifiedWhole = true;
            segment.flushedEnd = segment.nextOffset;
            return segment;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    ScanResult lastScan() {
        return lastScan;
    }

    /** {@link ScanResult#problem()} when the bytes after the last batch are only preallocated zeros. */
    static final String PREALLOCATED = "zeros preallocated ahead of the last write";

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(LogConfig.PREALLOCATE_CHUNK_BYTES)
        .asReadOnlyBuffer();

    /** Whether the file holds only zero bytes in [from, to). */
    private static boolean zeros(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long p = from;
        while (p < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - p));
            int n = channel.read(buf, p);
            if (n <= 0) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) != 0) {
                    return false;
                }
            }
            p += n;
        }
        return true;
    }

    /**
     * Keeps the file zero-filled up to {@code target} bytes (whole chunks, never past {@code limit}). Only an
     * optimisation: a failure is reported once and preallocation stops for this segment, the data is unaffected.
     *
     * @return false when zero-filling failed now
     */
    boolean preallocate(long target, long limit, StorageIo io) {
        if (preallocationFailed || allocatedEnd >= Math.min(target, limit)) {
            return true;
        }
        long from = Math.max(allocatedEnd, size);
        long to = Math.min(limit, from + Math.max(LogConfig.PREALLOCATE_CHUNK_BYTES,
            (target - from + LogConfig.PREALLOCATE_CHUNK_BYTES - 1)
                / LogConfig.PREALLOCATE_CHUNK_BYTES * LogConfig.PREALLOCATE_CHUNK_BYTES));
        try {
            for (long p = from; p < to; ) {
                ByteBuffer zeros = ZEROS.duplicate();
                zeros.limit((int) Math.min(zeros.capacity(), to - p));
                int n = zeros.remaining();
                io.write(channel, zeros, p);
                p += n;
            }
            allocatedEnd = to;
            return true;
        } catch (IOException e) {
            preallocationFailed = true;
            return false;
        }
    }

    /**
     * Cuts the zeros written ahead, so that the file ends with the last batch (sealing, clean close). The new size
     * is durable with the caller's next fsync of the segment (fdatasync covers the file size).
     */
    void trimPreallocation() throws IOException {
        if (allocatedEnd > size) {
            channel.truncate(size);
            allocatedEnd = size;
        }
    }

    /**
     * Walks batches from {@code start} (expected to hold {@code expectedOffset}), adding index entries when
     * {@code rebuildIndex}, and stops at the first batch that is torn or invalid.
     */
    private ScanResult scan(BatchScanner scanner, long start, long expectedOffset, int indexIntervalBytes,
                            boolean rebuildIndex) throws IOException {
        long fileSize = channel.size();
        long end = Math.min(fileSize, Integer.MAX_VALUE);
        BatchScanner.Walk walk = scanner.open(channel, start, end).walk(expectedOffset, "incomplete batch",
            (batch, position) -> {
                if (rebuildIndex) {
                    // the same rule as append(), so a rebuilt index equals the one built live
                    if (bytesSinceIndexEntry >= indexIntervalBytes && position > 0) {
                        index.append((int) (batch.baseOffset() - baseOffset), (int) position, maxTimestamp);
                        bytesSinceIndexEntry = 0;
                    }
                    bytesSinceIndexEntry += batch.sizeInBytes();
                }
                if (rollBaseMs < 0) {
                    rollBaseMs = batch.maxTimestamp();
                }
                maxTimestamp = Math.max(maxTimestamp, batch.maxTimestamp());
                return null;
            });
        nextOffset = walk.nextOffset();
        size = (int) walk.position();
        return new ScanResult(walk.position(), fileSize, walk.problem());
    }

    /** Scans a sealed segment from its last index entry: cheap, yet it checks the tail and finds the end. */
    private ScanResult scanTail(BatchScanner scanner) throws IOException {
        int start = index.lastPosition();
        long expected = baseOffset;
        if (start > 0) {
            int last = index.count() - 1;
            ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
            if (!entryHolds(index, last, (int) channel.size(), header)) {
                return new ScanResult(start, channel.size(), LAST_ENTRY_WRONG + " (entry " + last + " names offset "
                    + (baseOffset + index.relativeOffset(last)) + " at byte " + start + ")");
            }
            expected = header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
        }
        maxTimestamp = index.lastMaxTimestampBefore();
        return scan(scanner, start, expected, Integer.MAX_VALUE, false);
    }

    private static final String LAST_ENTRY_WRONG = "the last index entry does not point at the batch it names";

    /**
     * Whether entry {@code i} of {@code idx} points at a batch header with the offset it names: a whole header below
     * {@code limit}, magic 2, baseOffset = segment base + relativeOffset, a batchLength that fits below limit. Leaves
     * that header in {@code header}. (One positional read, which the lookups using the entry make anyway.)
     */
    private boolean entryHolds(SegmentIndex idx, int i, int limit, ByteBuffer header) throws IOException {
        int position = idx.position(i);
        if (position < 0 || !readHeader(position, limit, header)) {
            return false;
        }
        return header.get(RecordBatch.MAGIC_OFFSET) == RecordBatch.MAGIC
            && header.getLong(RecordBatch.BASE_OFFSET_OFFSET) == baseOffset + idx.relativeOffset(i)
            && plausibleLength(position, header, limit);
    }

    /** Whether the header's batchLength is at least a header and the batch ends at or below {@code limit}. */
    private static boolean plausibleLength(int position, ByteBuffer header, int limit) {
        int length = header.getInt(RecordBatch.LENGTH_OFFSET);
        return length >= RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD
            && (long) position + RecordBatch.LOG_OVERHEAD + length <= limit;
    }

    /**
     * Why a whole batch read back from a segment cannot be part of the log, or null when it can: the batch header
     * check every path runs ({@link RecordBatch#validateStored}: magic, CRC, record count, offset holes allowed),
     * then the offset it must have.
     */
    static String invalidStoredBatch(RecordBatch batch, long expectedOffset) {
        int size = batch.sizeInBytes();
        RecordBatch.Validation validation = batch.validateStored(size, Integer.MAX_VALUE);
        if (validation != RecordBatch.Validation.VALID) {
            return batch.describe(validation, size, Integer.MAX_VALUE);
        }
        if (batch.baseOffset() != expectedOffset) {
            return "base offset " + batch.baseOffset() + " where " + expectedOffset + " was expected";
        }
        return null;
    }

    /**
     * Writes one batch at the end of the file, straight from the caller's buffer (a direct buffer goes to the kernel
     * without a copy), then indexes it. Nothing is published (size, end offset) unless the write succeeded.
     */
    void append(ByteBuffer buffer, int offset, int length, long firstOffset, long lastOffset, long batchMaxTimestamp,
                long nowMs, int indexIntervalBytes, StorageIo io) throws IOException {
        int position = size;
        int savedLimit = buffer.limit();
        int savedPosition = buffer.position();
        try {
            buffer.limit(offset + length);
            buffer.position(offset);
            io.write(channel, buffer, position);
        } finally {
            buffer.limit(savedLimit);
            buffer.position(savedPosition);
        }
        if (rollBaseMs < 0) {
            rollBaseMs = nowMs;
        }
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > 0) {
            index.append((int) (firstOffset - baseOffset), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        bytesSinceIndexEntry += length;
        maxTimestamp = Math.max(maxTimestamp, batchMaxTimestamp);
        nextOffset = lastOffset + 1;
        size = position + length;
        if (allocatedEnd < size) {
            allocatedEnd = size;
        }
    }

    /** Cuts off whatever a failed write may have left after the last whole batch (best effort). */
    void discardTail() {
        try {
            if (channel.size() > size) {
                channel.truncate(size);
            }
            allocatedEnd = size;
        } catch (IOException e) {
            // The partition goes offline anyway, and recovery truncates a torn tail on the next start.
        }
    }

    /**
     * Makes the segment's data durable up to {@code end} (an offset whose bytes were all written before the call).
     * Commit-lock holder only.
     */
    void flush(StorageIo io, long end) throws IOException {
        io.force(channel);
        if (end > flushedEnd) {
            flushedEnd = end;
        }
    }

    /** Offsets below this are fsync'd (see the field). */
    long flushedEnd() {
        return flushedEnd;
    }

    /**
     * The data half of a seal, on the storage thread once the segment is no longer active: cuts the preallocated
     * zeros and fsyncs everything. The caller then writes the index ({@link #writeIndexFile}) and fsyncs the
     * directory.
     */
    void syncForSeal(StorageIo io) throws IOException {
        trimPreallocation();
        flush(io, nextOffset);
    }

    /**
     * Writes the in-memory index to the {@code .index} file atomically (temporary file, fsync, rename); the rename is
     * durable with the caller's next directory fsync.
     */
    void writeIndexFile() throws IOException {
        DurableFiles.writeAndRename(LogFiles.indexFile(dir, baseOffset), index::writeTo);
    }

    /**
     * Position of the batch that holds {@code offset}: the index narrows it down, then batch headers are read
     * forwards. -1 when no batch of this segment holds it; {@link #DAMAGED} when the batch holding it cannot be
     * found because the segment is damaged before it.
     *
     * <p>In a segment not verified whole (a sealed segment opened from its index file) the index entry used is
     * checked first (it must point at a batch header with the offset it names: see {@link #entryHolds}); an entry
     * that does not is a wrong index, which is then rebuilt from the log ({@link #rebuildIndex}) and the lookup
     * repeated. The header walk from there stops at a header that is not one (magic, length): damage.
     */
    int findBatch(long offset, ByteBuffer header) throws IOException {
        while (true) {
            SegmentIndex idx = index;
            boolean check = !verifiedWhole;
            int limit = size;
            int entry = idx.floorEntry(offset - baseOffset);
            if (check && entry >= 0 && !entryHolds(idx, entry, limit, header)) {
                rebuildIndex(idx, entry);
                continue;
            }
            int position = entry < 0 ? 0 : idx.position(entry);
            while (position < limit) {
                if (position >= damagedAt) {
                    return DAMAGED;
                }
                if (!readHeader(position, limit, header)) {
                    if (!check) {
                        return -1;
                    }
                    markDamaged(position, (limit - position) + " bytes at the end, less than a batch header");
                    return DAMAGED;
                }
                if (check && (header.get(RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC
                    || !plausibleLength(position, header, limit))) {
                    markDamaged(position, "no batch header where the previous batch ends (magic "
                        + header.get(RecordBatch.MAGIC_OFFSET) + ", batchLength "
                        + header.getInt(RecordBatch.LENGTH_OFFSET) + ")");
                    return DAMAGED;
                }
                long last = header.getLong(RecordBatch.BASE_OFFSET_OFFSET)
                    + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
                if (last >= offset) {
                    return position;
                }
                position += RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
            }
            return -1;
        }
    }

    /**
     * The base offset of the newest batch of {@code producerId} with this epoch, base sequence and last offset delta
     * among the batches of this segment that end before the batch holding {@code beforeOffset} (all of them when the
     * segment ends before it), looking back at most about {@code maxBytes}; -1 when none (or the bytes there are
     * not whole batches). A framing-only walk from an index entry: no CRC, no record decoding.
     */
    long findProducerBatch(long beforeOffset, int maxBytes, long producerId, short epoch, int baseSequence,
                           int lastOffsetDelta) throws IOException {
        int end;
        if (beforeOffset >= nextOffset) {
            end = size;
        } else {
            end = findBatch(beforeOffset, ByteBuffer.allocate(RecordBatch.HEADER_SIZE));
            if (end < 0) {
                return -1L;
            }
        }
        int start = index.floorPositionAt(Math.max(0, end - maxBytes));
        if (start >= end) {
            return -1L;
        }
        BatchScanner scanner = READ_SCANNERS.get().open(channel, start, end);
        long found = -1L;
        while (scanner.next() == BatchScanner.Status.BATCH) {
            RecordBatch b = scanner.batch();
            if (b.producerId() == producerId && b.producerEpoch() == epoch && b.baseSequence() == baseSequence
                && b.lastOffsetDelta() == lastOffsetDelta) {
                found = b.baseOffset(); // the newest match: appended again after its producer expired, that one
            }
        }
        return found;
    }

    /**
     * Bytes of whole batches from {@code startPosition} (a batch boundary whose batch starts below the high
     * watermark, holding {@code fetchOffset}): as many as fit in {@code maxBytes}, at least the first one, none that
     * starts at or above {@code highWatermark}. The index lets the scan jump over the batches in between.
     *
     * <p>In a segment not verified whole, what is about to be served is checked first ({@link #checkServed}): the
     * answer stops before the first damaged batch, and is {@link #DAMAGED} when that is the first one.
     */
    int readableBytes(int startPosition, int maxBytes, long highWatermark, long fetchOffset, ByteBuffer header)
        throws IOException {
        while (true) {
            SegmentIndex idx = index;
            boolean check = !verifiedWhole;
            int limit = size;
            long relativeLimit = highWatermark - baseOffset;
            long maxPosition = (long) startPosition + Math.max(0, maxBytes);
            int position;
            int jump = idx.lastEntryWithin(startPosition, maxPosition, relativeLimit);
            if (check && jump >= 0 && !entryHolds(idx, jump, limit, header)) {
                rebuildIndex(idx, jump);
                continue;
            }
            if (jump >= 0) {
                position = idx.position(jump);
            } else {
                if (!readHeader(startPosition, limit, header)) {
                    return check ? checkServed(startPosition, 0, fetchOffset) : 0;
                }
                position = startPosition + RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
            }
            while (position < limit) {
                if (!readHeader(position, limit, header)
                    || header.getLong(RecordBatch.BASE_OFFSET_OFFSET) >= highWatermark) {
                    break;
                }
                long end = (long) position + RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
                if (end > maxPosition || end > limit || end <= position) {
                    break;
                }
                position = (int) end;
            }
            int bytes = Math.min(position, limit) - startPosition;
            return check ? checkServed(startPosition, Math.max(0, bytes), fetchOffset) : bytes;
        }
    }

    /**
     * The read-side check of a segment not verified whole: of the bytes {@code [position, position + bytes)} that a
     * fetch for {@code fetchOffset} is about to serve, how many are whole valid batches at the right offsets; the
     * rest is not served. Checks what the checked island ({@link #verified}) does not cover yet: each batch's
     * framing (batchLength within the range, magic 2), CRC and record count ({@link RecordBatch#validate}), and
     * offsets (the first batch holds fetchOffset, or continues the island; each next one starts right after the
     * previous one). Damage is logged once (file and byte position) and counted, and nothing at or after it is served
     * again. A reader going forwards extends the island, so each byte is checked about once; a segment checked
     * entirely becomes verified whole and costs nothing more.
     *
     * @return the bytes to serve, or {@link #DAMAGED} when the first batch is damaged
     */
    private int checkServed(int position, int bytes, long fetchOffset) throws IOException {
        int damage = damagedAt;
        if (position >= damage) {
            return DAMAGED;
        }
        int end = (int) Math.min((long) position + bytes, damage);
        Verified island = verified;
        if (position >= island.start() && end <= island.end()) {
            return end - position;
        }
        boolean extend = position >= island.start() && position <= island.end();
        int from = extend ? island.end() : position;
        long expected = extend ? island.nextOffset() : -1L;
        BatchScanner scanner = READ_SCANNERS.get().open(channel, from, end);
        int good = from;
        String problem = null;
        while (true) {
            BatchScanner.Status status = scanner.next();
            if (status == BatchScanner.Status.END) {
                break;
            }
            if (status == BatchScanner.Status.TORN) {
                problem = "the batch's length does not end at a batch boundary (byte " + end + ")";
                break;
            }
            RecordBatch batch = scanner.batch();
            if (expected < 0) {
                // the first batch of a range read on its own: it must hold the offset asked for
                problem = invalidStoredBatch(batch, batch.baseOffset());
                if (problem == null && (batch.baseOffset() < baseOffset || batch.baseOffset() > fetchOffset
                    || batch.lastOffset() < fetchOffset)) {
                    problem = "batch of offsets " + batch.baseOffset() + "-" + batch.lastOffset() + " where offset "
                        + fetchOffset + " was looked up";
                }
            } else {
                problem = invalidStoredBatch(batch, expected);
            }
            if (problem != null) {
                break;
            }
            expected = batch.lastOffset() + 1;
            good = (int) scanner.position() + batch.sizeInBytes();
        }
        if (problem != null) {
            markDamaged((int) scanner.position(), problem);
        }
        if (good > from) {
            recordVerified(extend ? island : null, extend ? island.start() : position, good, expected);
            if (metrics != null) {
                metrics.chunksVerified.increment();
                metrics.bytesVerified.add(good - from);
            }
        }
        if (good <= position) {
            return problem != null ? DAMAGED : 0;
        }
        return good - position;
    }

    /** Records a checked range: extends {@code was} if it is still the island, else makes a new island. */
    private synchronized void recordVerified(Verified was, int start, int end, long nextOffset) {
        Verified now = verified;
        if (was != null && now != was) {
            return; // another reader moved the island meanwhile; this range stays checked only for this read
        }
        verified = new Verified(start, end, nextOffset);
        if (start == 0 && end >= size && nextOffset == this.nextOffset) {
            verifiedWhole = true;
        }
    }

    /** Notes damage at {@code position}: logged and counted once per position found, never served again. */
    private synchronized void markDamaged(int position, String problem) {
        if (position >= damagedAt) {
            return;
        }
        damagedAt = position;
        if (metrics != null) {
            metrics.corruptBatchesRead.increment();
        }
        LOG.error("{}: damaged sealed segment at byte {} of {}: {}. Batches from there on are not served (fetches "
            + "of those offsets answer KAFKA_STORAGE_ERROR); check the data directory with the verify command "
            + "(docs/STORAGE.md)", logPath, position, size, problem);
    }

    /**
     * Replaces an index whose entry {@code entry} turned out not to point at the batch it names, by one rebuilt
     * from the log with the rule {@link #append} uses, checking every batch on the way (so that a clean segment is
     * verified whole afterwards, and damage found is marked). Runs on the reading thread that found the entry, once
     * per segment (other readers with the old index wait for it, then use the new one). The file is rewritten at the
     * next clean close ({@link #indexFileStale()}), not here on the reading thread.
     */
    private synchronized void rebuildIndex(SegmentIndex seen, int entry) throws IOException {
        if (index != seen) {
            return;
        }
        LOG.warn("{}: entry {} names offset {} at byte {}, where no batch with that offset starts; rebuilding the "
            + "index of this segment from the log", LogFiles.indexFile(dir, baseOffset), entry,
            baseOffset + seen.relativeOffset(entry), seen.position(entry));
        if (metrics != null) {
            metrics.badIndexEntries.increment();
        }
        SegmentIndex rebuilt = new SegmentIndex();
        int end = size;
        long[] maxTs = {-1L};
        int[] sinceEntry = {0};
        BatchScanner.Walk walk = new BatchScanner().open(channel, 0, end).walk(baseOffset, "incomplete batch",
            (batch, position) -> {
                if (sinceEntry[0] >= indexIntervalBytes && position > 0) {
                    rebuilt.append((int) (batch.baseOffset() - baseOffset), (int) position, maxTs[0]);
                    sinceEntry[0] = 0;
                }
                sinceEntry[0] += batch.sizeInBytes();
                maxTs[0] = Math.max(maxTs[0], batch.maxTimestamp());
                return null;
            });
        long expected = walk.nextOffset();
        int position = (int) walk.position();
        String problem = walk.problem();
        index = rebuilt;
        indexFileStale = true;
        if (problem != null) {
            markDamaged(position, problem);
        } else {
            verified = new Verified(0, end, expected);
            verifiedWhole = true;
        }
    }

    /**
     * The first record at or after {@code timestamp} below {@code highWatermark}, as {offset, timestamp}; null when
     * this segment has none. In a segment not verified whole the index entry used is checked (see
     * {@link #findBatch}), and the walk stops at damage.
     *
     * @throws IOException also when the segment is damaged before the answer
     */
    long[] findTimestamp(long timestamp, long highWatermark) throws IOException {
        return findTimestamp(timestamp, highWatermark, Long.MIN_VALUE);
    }

    /** {@link #findTimestamp(long, long)} among the records at or after {@code minOffset} (the log start) only. */
    long[] findTimestamp(long timestamp, long highWatermark, long minOffset) throws IOException {
        if (maxTimestamp < timestamp) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        int position;
        while (true) {
            SegmentIndex idx = index;
            int entry = idx.entryBeforeTimestamp(timestamp);
            if (!verifiedWhole && entry >= 0 && !entryHolds(idx, entry, size, header)) {
                rebuildIndex(idx, entry);
                continue;
            }
            position = entry < 0 ? 0 : idx.position(entry);
            break;
        }
        int limit = size;
        RecordReader reader = null;
        while (position < limit) {
            if (position >= damagedAt) {
                throw new IOException(logPath + ": damaged at byte " + damagedAt);
            }
            if (!readHeader(position, limit, header)) {
                break;
            }
            long batchBase = header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
            if (batchBase >= highWatermark) {
                return null;
            }
            int batchSize = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
            if (!verifiedWhole && (header.get(RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC
                || !plausibleLength(position, header, limit))) {
                markDamaged(position, "no batch header where the previous batch ends");
                throw new IOException(logPath + ": damaged at byte " + position);
            }
            long batchMax = header.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET);
            long batchLast = batchBase + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
            if (batchMax >= timestamp && batchLast >= minOffset) {
                if ((header.getShort(RecordBatch.ATTRIBUTES_OFFSET) & RecordBatch.TIMESTAMP_TYPE_MASK) != 0) {
                    return new long[] {Math.max(batchBase, minOffset), batchMax};
                }
                ByteBuffer whole = ByteBuffer.allocate(batchSize);
                readFully(whole, position);
                reader = reader == null ? new RecordReader() : reader;
                reader.wrap(whole, 0);
                while (reader.next()) {
                    if (reader.timestamp >= timestamp && reader.offset >= minOffset) {
                        return new long[] {reader.offset, reader.timestamp};
                    }
                }
            }
            position += batchSize;
        }
        return null;
    }

    private boolean readHeader(int position, int limit, ByteBuffer header) throws IOException {
        if (limit - position < RecordBatch.HEADER_SIZE) {
            return false;
        }
        header.clear();
        readFully(header, position);
        return true;
    }

    private void readFully(ByteBuffer dst, long position) throws IOException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, p);
            if (n < 0) {
                throw new IOException(logPath + ": unexpected end of file at " + p);
            }
            p += n;
        }
    }

    /** Renames the files for deletion: new reads no longer find them, reads in flight keep the open channel. */
    void markDeleted() throws IOException {
        Path log = logPath;
        Path deleted = log.resolveSibling(log.getFileName() + LogFiles.DELETED_SUFFIX);
        Files.move(log, deleted, StandardCopyOption.ATOMIC_MOVE);
        logPath = deleted;
        Path indexPath = LogFiles.indexFile(dir, baseOffset);
        if (Files.exists(indexPath)) {
            Files.move(indexPath, indexPath.resolveSibling(indexPath.getFileName() + LogFiles.DELETED_SUFFIX),
                StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Closes the file and removes the renamed files for good. */
    void deleteFiles() throws IOException {
        close();
        Files.deleteIfExists(logPath);
        Path indexPath = LogFiles.indexFile(dir, baseOffset);
        Files.deleteIfExists(indexPath.resolveSibling(indexPath.getFileName() + LogFiles.DELETED_SUFFIX));
    }

    void close() throws IOException {
        channel.close();
    }

    FileChannel channel() {
        return channel;
    }

    /** The file now: renamed with {@value LogFiles#DELETED_SUFFIX} once retention removed the segment. */
    Path path() {
        return logPath;
    }

    int size() {
        return size;
    }

    /** One past the last offset in the segment ({@link #baseOffset} when empty). */
    long nextOffset() {
        return nextOffset;
    }

    /** Largest batch maxTimestamp in the segment; -1 when empty. */
    long maxTimestamp() {
        return maxTimestamp;
    }

    long rollBaseMs() {
        return rollBaseMs;
    }

    /**
     * A replica's active segment after a cut to its snapshot: the roll clock the segment had there (the leader's time
     * of its first entry), not the recovery's guess from the batches' timestamps, so that the next rolls are where
     * the other replicas roll.
     */
    void restoreRollBase(long ms) {
        rollBaseMs = ms;
    }

    /** After a restart, the roll clock of a non-empty active segment must not start in the future. */
    void clampRollBase(long nowMs) {
        if (rollBaseMs > nowMs) {
            rollBaseMs = nowMs;
        }
    }

    /** Whether the in-memory index was rebuilt after the file was found wrong (a clean close rewrites the file). */
    boolean indexFileStale() {
        return indexFileStale;
    }

    /** Whether every batch of the file has been checked (see the field); reads of other segments check. */
    boolean verifiedWhole() {
        return verifiedWhole;
    }

    SegmentIndex index() {
        return index;
    }

    @Override
    public String toString() {
        return "LogSegment(" + logPath + ", size=" + size + ", offsets=[" + baseOffset + ", " + nextOffset + "))";
    }
}
