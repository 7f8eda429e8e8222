package io.idemlog.server.log;

import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.DurableFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The sparse index of one segment: an entry every {@code indexIntervalBytes} of log, pointing at the start of a
 * batch. Kept in memory (16 bytes per entry: 0.4% of the log at the default 4 KiB interval) and written to the
 * {@code .index} file when the segment is sealed or the log closed. The active segment's index is never trusted
 * from disk: recovery rebuilds it while it validates the segment.
 *
 * <pre>
 *  .index entry (big-endian, {@value #ENTRY_SIZE} bytes, entries in log order)
 *  offset size field
 *       0    4 relativeOffset       baseOffset of the batch minus the segment's base offset
 *       4    4 position             byte position of the batch in the .log file
 *       8    8 maxTimestampBefore   largest batch maxTimestamp of the segment BEFORE this batch (-1 if none)
 * </pre>
 *
 * Why "before": every record of the batches before the entry is older than maxTimestampBefore, so a timestamp
 * lookup for t may start its scan at the last entry whose maxTimestampBefore is below t (a binary search, since the
 * field never decreases). Both relativeOffset and position strictly increase.
 *
 * <p>Threads: appended by the partition's writer, searched concurrently by readers. A reader reads the entry count
 * (volatile) before the array, and the writer publishes a grown array before it publishes a count that needs it,
 * so a reader always sees at least {@code count} valid entries.
 */
final class SegmentIndex {
    static final int RELATIVE_OFFSET_OFFSET = 0;
    static final int POSITION_OFFSET = RELATIVE_OFFSET_OFFSET + 4;
    static final int MAX_TIMESTAMP_BEFORE_OFFSET = POSITION_OFFSET + 4;
    static final int ENTRY_SIZE = MAX_TIMESTAMP_BEFORE_OFFSET + 8;

    private static final long LOW_MASK = 0xFFFF_FFFFL;

    /** Entries per block: a block is {@value #BLOCK_ENTRIES} x 2 longs (4 KiB). */
    static final int BLOCK_ENTRIES = 256;
    private static final int BLOCK_SHIFT = 8;
    private static final int BLOCK_MASK = BLOCK_ENTRIES - 1;
    private static final int FIRST_BLOCK_LONGS = 2 * 16;
    /** Entries per write when the index is written to its file (16 KiB buffers). */
    private static final int WRITE_CHUNK_ENTRIES = 1024;

    /**
     * Two longs per entry, in blocks of {@value #BLOCK_ENTRIES} entries: relativeOffset (high 32 bits) | position
     * (low 32 bits), then maxTimestampBefore. Past the first block, growing adds a block and never copies entries, so
     * appending allocates only the index's own memory (one 4 KiB block per 256 entries) and no garbage.
     */
    private volatile long[][] blocks = new long[1][];
    private volatile int count;

    private static long packed(long[][] b, int i) {
        return b[i >>> BLOCK_SHIFT][(i & BLOCK_MASK) << 1];
    }

    private static long timestampBefore(long[][] b, int i) {
        return b[i >>> BLOCK_SHIFT][((i & BLOCK_MASK) << 1) + 1];
    }

    int count() {
        return count;
    }

    void append(int relativeOffset, int position, long maxTimestampBefore) {
        int n = count;
        long[][] b = blocks;
        int block = n >>> BLOCK_SHIFT;
        if (block >= b.length) {
            b = Arrays.copyOf(b, b.length * 2); // the array of block references: 8 bytes per 256 entries
        }
        int at = (n & BLOCK_MASK) << 1;
        long[] blk = b[block];
        if (blk == null) {
            // The first block starts small (a segment with few entries keeps 256 bytes, not 4 KiB) and doubles up
            // to a whole block; later blocks are whole from the start.
            blk = new long[block == 0 ? FIRST_BLOCK_LONGS : 2 * BLOCK_ENTRIES];
            b[block] = blk;
        } else if (at + 1 >= blk.length) {
            blk = Arrays.copyOf(blk, Math.min(blk.length * 2, 2 * BLOCK_ENTRIES));
            b[block] = blk;
        }
        blk[at] = ((long) relativeOffset << 32) | (position & LOW_MASK);
        blk[at + 1] = maxTimestampBefore;
        blocks = b; // published before the count that needs it
        count = n + 1;
    }

    /** Forgets every entry (recovery rebuilds; single-threaded then). */
    void clear() {
        count = 0;
    }

    /** The largest maxTimestampBefore recorded (-1 when empty); the segment's max is at least this. */
    long lastMaxTimestampBefore() {
        int n = count;
        return n == 0 ? -1L : timestampBefore(blocks, n - 1);
    }

    /** Position of the last entry, 0 when empty: a scan of the tail starts there. */
    int lastPosition() {
        int n = count;
        return n == 0 ? 0 : (int) packed(blocks, n - 1);
    }

    /** The relativeOffset of entry {@code i} (below {@link #count()}). */
    int relativeOffset(int i) {
        return (int) (packed(blocks, i) >>> 32);
    }

    /** The position of entry {@code i} (below {@link #count()}). */
    int position(int i) {
        return (int) packed(blocks, i);
    }

    /** The maxTimestampBefore of entry {@code i} (below {@link #count()}). */
    long maxTimestampBefore(int i) {
        return timestampBefore(blocks, i);
    }

    /** The last entry whose batch starts at or before {@code relativeOffset}; -1 when none does. */
    int floorEntry(long relativeOffset) {
        int n = count;
        long[][] e = blocks;
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if ((packed(e, mid) >>> 32) <= relativeOffset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** The largest entry position at or below file position {@code position} (a batch boundary); 0 when none is. */
    int floorPositionAt(int position) {
        int lo = 0;
        int hi = count() - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (position(mid) <= position) {
                found = position(mid);
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Position of the last entry whose batch starts at or before {@code relativeOffset}; 0 when none does. */
    int floorPosition(long relativeOffset) {
        int found = floorEntry(relativeOffset);
        return found < 0 ? 0 : position(found);
    }

    /** The last entry whose maxTimestampBefore is below {@code timestamp}; -1 when none. */
    int entryBeforeTimestamp(long timestamp) {
        int n = count;
        long[][] e = blocks;
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (timestampBefore(e, mid) < timestamp) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Position of the last entry whose maxTimestampBefore is below {@code timestamp}; 0 when none. */
    int positionBeforeTimestamp(long timestamp) {
        int found = entryBeforeTimestamp(timestamp);
        return found < 0 ? 0 : position(found);
    }

    /**
     * The last entry in {@code (startPosition, maxPosition]} whose batch starts below {@code relativeLimit}; -1 when
     * there is none. Everything between startPosition and that entry's position is whole batches below the limit
     * (when the entry is right): a read can jump there without looking at the batches in between.
     */
    int lastEntryWithin(int startPosition, long maxPosition, long relativeLimit) {
        int n = count;
        long[][] e = blocks;
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long packed = packed(e, mid);
            if ((packed & LOW_MASK) <= maxPosition && (packed >>> 32) < relativeLimit) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) {
            return -1;
        }
        return (int) packed(e, found) > startPosition ? found : -1;
    }

    /** Replaces the content of {@code channel} by this index (written in chunks of 16 KiB). */
    void writeTo(FileChannel channel) throws IOException {
        int n = count;
        long[][] e = blocks;
        channel.truncate(0);
        channel.position(0);
        ByteBuffer buf = ByteBuffer.allocate(Math.max(1, Math.min(n, WRITE_CHUNK_ENTRIES)) * ENTRY_SIZE);
        for (int i = 0; i < n; ) {
            buf.clear();
            int end = Math.min(n, i + WRITE_CHUNK_ENTRIES);
            for (; i < end; i++) {
                long p = packed(e, i);
                buf.putInt((int) (p >>> 32)).putInt((int) p).putLong(timestampBefore(e, i));
            }
            buf.flip();
            DurableFiles.writeFully(channel, buf);
        }
    }

    /**
     * Reads an index file written by {@link #writeTo}. See {@link #parse}.
     *
     * @throws CorruptFileException when its content is not a plausible index (the caller rebuilds it from the log)
     */
    static SegmentIndex load(FileChannel channel, String source, int segmentSize) throws IOException {
        long size = channel.size();
        if (size % ENTRY_SIZE != 0 || size / ENTRY_SIZE > segmentSize) {
            throw new CorruptFileException(source, -1L, "size " + size + " is not that of an index (a multiple of "
                + ENTRY_SIZE + " bytes, at most one entry per byte of its " + segmentSize + "-byte segment)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        while (buf.hasRemaining()) {
            if (channel.read(buf, buf.position()) < 0) {
                throw new CorruptFileException(source, buf.position(), "shorter than its size when opened");
            }
        }
        return parse(buf.flip(), source, segmentSize);
    }

    /**
     * Parses the entries of an index file ({@code bytes}' remaining bytes) of a segment of {@code segmentSize}
     * bytes, checking what the index alone can show: whole entries, relativeOffset and position strictly increasing,
     * positions inside the segment, maxTimestampBefore never decreasing. (Whether each entry really points at a
     * batch with that offset takes the log: a segment not verified whole checks each entry it uses, see
     * {@link LogSegment}.) The entry point for the
     * loader and the fuzz target: for any bytes it returns or throws {@link CorruptFileException}, nothing else.
     */
    static SegmentIndex parse(ByteBuffer bytes, String source, int segmentSize) throws CorruptFileException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        if (buf.remaining() % ENTRY_SIZE != 0) {
            throw new CorruptFileException(source, -1L, "size " + buf.remaining() + " is not a multiple of "
                + ENTRY_SIZE);
        }
        SegmentIndex index = new SegmentIndex();
        long previousOffset = -1;
        long previousPosition = -1;
        long previousTimestamp = Long.MIN_VALUE;
        for (int at = 0; at < buf.limit(); at += ENTRY_SIZE) {
            int relativeOffset = buf.getInt(at + RELATIVE_OFFSET_OFFSET);
            int position = buf.getInt(at + POSITION_OFFSET);
            long maxTimestampBefore = buf.getLong(at + MAX_TIMESTAMP_BEFORE_OFFSET);
            String problem = null;
            if (relativeOffset <= previousOffset) {
                problem = "relativeOffset " + relativeOffset + " does not increase";
            } else if (position <= previousPosition || position >= segmentSize) {
                problem = "position " + position + " does not increase or is outside the " + segmentSize
                    + "-byte segment";
            } else if (maxTimestampBefore < previousTimestamp) {
                problem = "maxTimestampBefore " + maxTimestampBefore + " decreases";
            }
            if (problem != null) {
                throw new CorruptFileException(source, at, "entry " + (at / ENTRY_SIZE) + ": " + problem);
            }
            index.append(relativeOffset, position, maxTimestampBefore);
            previousOffset = relativeOffset;
            previousPosition = position;
            previousTimestamp = maxTimestampBefore;
        }
        return index;
    }
}
