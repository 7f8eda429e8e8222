package io.idemlog.server.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A producer state snapshot: the whole {@link ProducerStateTable} of a partition (every producer with ALL its cached
 * batches, its epoch and last write time) as it was when the log ended at a given offset, and the highest producer
 * id the partition ever saw below that offset. Named {@code <20-digit offset>.snapshot}, in the partition directory.
 *
 * <pre>
 *  offset size field
 *       0    4 magic            0x49445053 "IDPS"
 *       4    2 version          2 (version 1 had no maxProducerId: its header is 8 bytes shorter)
 *       6    2 reserved         0
 *       8    8 logOffset        the state covers exactly the batches below this offset
 *      16    8 maxProducerId    highest producer id in any batch below logOffset, also of producers since expired or
 *                               evicted; -1 when none
 *      24    4 entryCount
 *      28    . entries          entryCount times, least recently written producer first:
 *                 0    8 producerId        0 .. maxProducerId
 *                 8    2 epoch
 *                10    8 lastWriteMs       server time of the producer's last write
 *                18    1 batchCount        1..5
 *                19    . batches           batchCount times, oldest first:
 *                           0  4 firstSequence
 *                           4  4 lastOffsetDelta
 *                           8  8 firstOffset
 *     end-4    4 crc              CRC-32C of every byte before it
 * </pre>
 *
 * Why the CRC is a trailer: the file is streamed out in one pass (it may hold a million producers) and the CRC is
 * computed as it goes; a file cut short anywhere fails it. Why the oldest producer first: loading replays the
 * entries through {@link ProducerStateTable#update}, which rebuilds the LRU order as it was. Why maxProducerId: the
 * producer id allocator must start above every id a partition holds even when its own file is lost or older than
 * the logs, and this field gives that bound without reading the log (ProducerIdAllocator, LogManager).
 *
 * <p>The file naming, the whole-file read and the CRC trailer check are {@link SnapshotFiles}', shared with the
 * key window snapshot. Written through {@link DurableFiles#writeAtomically} (temporary file, fsync, atomic rename, directory fsync):
 * after a crash a snapshot file is either absent or complete. A roll serialises the table in memory
 * ({@link #serialize}, under the partition lock) and a storage thread writes the bytes ({@link #writeBytes}).
 */
public final class ProducerSnapshotFile {
    public static final String SUFFIX = ".snapshot";

    /** {@link Loaded#maxProducerId()} of a version 1 snapshot, which did not record it: read the log instead. */
    public static final long MAX_PRODUCER_ID_UNKNOWN = -2L;

    /** What a snapshot said besides its entries. */
    public record Loaded(long logOffset, long maxProducerId) {
    }

    static final int MAGIC = 0x49445053;
    static final short VERSION = 2;
    static final short VERSION_1 = 1;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + 4;
    static final int RESERVED_OFFSET = VERSION_OFFSET + 2;
    /** Position of logOffset in the file (for messages naming where a file is wrong). */
    public static final int LOG_OFFSET_OFFSET = RESERVED_OFFSET + 2;
    static final int MAX_PRODUCER_ID_OFFSET = LOG_OFFSET_OFFSET + 8;
    static final int ENTRY_COUNT_OFFSET = MAX_PRODUCER_ID_OFFSET + 8;
    static final int HEADER_SIZE = ENTRY_COUNT_OFFSET + 4;
    /** Version 1: logOffset, then entryCount. */
    static final int V1_ENTRY_COUNT_OFFSET = LOG_OFFSET_OFFSET + 8;
    static final int V1_HEADER_SIZE = V1_ENTRY_COUNT_OFFSET + 4;

    static final int ENTRY_PRODUCER_ID_OFFSET = 0;
    static final int ENTRY_EPOCH_OFFSET = ENTRY_PRODUCER_ID_OFFSET + 8;
    static final int ENTRY_LAST_WRITE_OFFSET = ENTRY_EPOCH_OFFSET + 2;
    static final int ENTRY_BATCH_COUNT_OFFSET = ENTRY_LAST_WRITE_OFFSET + 8;
    static final int ENTRY_HEADER_SIZE = ENTRY_BATCH_COUNT_OFFSET + 1;

    static final int BATCH_FIRST_SEQUENCE_OFFSET = 0;
    static final int BATCH_LAST_OFFSET_DELTA_OFFSET = BATCH_FIRST_SEQUENCE_OFFSET + 4;
    static final int BATCH_FIRST_OFFSET_OFFSET = BATCH_LAST_OFFSET_DELTA_OFFSET + 4;
    static final int BATCH_SIZE = BATCH_FIRST_OFFSET_OFFSET + 8;

    static final int CRC_SIZE = SnapshotFiles.CRC_SIZE;
    private static final int MAX_ENTRY_SIZE = ENTRY_HEADER_SIZE + ProducerStateTable.RETAINED_BATCHES * BATCH_SIZE;
    private static final int WRITE_BUFFER_SIZE = 64 * 1024;
    /** Larger snapshots are refused unread: far beyond what any configured producer limit can produce. */
    static final long MAX_FILE_SIZE = SnapshotFiles.MAX_FILE_SIZE;

    private ProducerSnapshotFile() {
    }

    /** The snapshot file for log offset {@code offset} in {@code dir}. */
    public static Path path(Path dir, long offset) {
        return SnapshotFiles.path(dir, offset, SUFFIX);
    }

    /** The log offset a snapshot file name stands for, or -1 when the name is not one of a snapshot. */
    public static long offsetOf(Path file) {
        return SnapshotFiles.offsetOf(file, SUFFIX);
    }

    /** Log offsets of the snapshot files in {@code dir}, ascending. */
    public static long[] list(Path dir) throws IOException {
        return SnapshotFiles.list(dir, SUFFIX);
    }

    /** Deletes every snapshot in {@code dir} except the {@code keep} newest. */
    public static void retainNewest(Path dir, int keep) throws IOException {
        SnapshotFiles.retainNewest(dir, SUFFIX, keep);
    }

    /** Deletes every snapshot in {@code dir} above {@code offset} (they describe records that are gone). */
    public static void deleteAbove(Path dir, long offset) throws IOException {
        SnapshotFiles.deleteAbove(dir, SUFFIX, offset);
    }

    /**
     * Writes {@code table} durably as the snapshot at {@code logOffset} in {@code dir}, streamed through a fixed
     * buffer; returns its path.
     *
     * @param maxProducerId the highest producer id of the partition's batches below {@code logOffset}, or -1
     */
    public static Path write(Path dir, long logOffset, long maxProducerId, ProducerStateTable table)
        throws IOException {
        Path target = path(dir, logOffset);
        writeTo(target, logOffset, maxProducerId, table);
        return target;
    }

    /** {@link #write} to a file of another name (a Raft snapshot's own copy of the state, cluster mode). */
    public static void writeTo(Path target, long logOffset, long maxProducerId, ProducerStateTable table)
        throws IOException {
        DurableFiles.writeAtomically(target, channel -> {
            Writer writer = new Writer(channel);
            writer.header(logOffset, maxProducerId, table.size());
            try {
                table.forEachOldestFirst(writer);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            writer.finish();
        });
    }

    /**
     * The bytes of the snapshot of {@code table} at {@code logOffset}, in memory (about 100 bytes per producer):
     * what a roll takes under the partition lock, so that the file is written and fsync'd later, off that lock.
     */
    public static ByteBuffer serialize(long logOffset, long maxProducerId, ProducerStateTable table) {
        int size = HEADER_SIZE + CRC_SIZE + table.size() * MAX_ENTRY_SIZE;
        ByteBuffer out = ByteBuffer.allocate(size);
        Writer writer = new Writer(out);
        writer.header(logOffset, maxProducerId, table.size());
        table.forEachOldestFirst(writer);
        try {
            writer.finish();
        } catch (IOException e) {
            throw new IllegalStateException("in-memory snapshot write failed", e); // a heap buffer cannot fail
        }
        return out.flip();
    }

    /**
     * Writes bytes made by {@link #serialize} as the snapshot at {@code logOffset} (temporary file, fsync, rename);
     * returns its path. Like {@link DurableFiles#writeAndRename}, the caller fsyncs the directory.
     */
    public static Path writeBytes(Path dir, long logOffset, ByteBuffer bytes) throws IOException {
        return SnapshotFiles.writeBytes(dir, logOffset, SUFFIX, bytes);
    }

    /**
     * Loads a snapshot file into {@code into} (which should be empty). Checks the whole file (size, CRC, magic,
     * version, every entry's shape) before it changes {@code into}; see {@link #read}.
     *
     * @throws CorruptSnapshotException when the content cannot be trusted (the message names the file and why)
     * @throws IOException              when the file cannot be read
     */
    public static Loaded load(Path file, ProducerStateTable into) throws IOException {
        ByteBuffer buf = SnapshotFiles.readWhole(file, V1_HEADER_SIZE + CRC_SIZE, "a snapshot");
        return read(buf, file.toString(), into);
    }

    /**
     * Parses a whole snapshot file's bytes ({@code bytes}' remaining bytes; its position is not moved) into
     * {@code into}, which is changed only once every check passed: the CRC, magic, version (1 or 2), the header, and
     * the shape of every entry (batch count 1..5, producer id in [0, maxProducerId], nothing after the last entry).
     * The entry point for the loader and its fuzz target: for any bytes it returns or throws
     * {@link CorruptSnapshotException}, nothing else.
     *
     * @param source names the bytes in messages (the file's path)
     * @return the log offset the state covers and the partition's highest producer id (-1 none;
     *         {@link #MAX_PRODUCER_ID_UNKNOWN} for a version 1 file)
     */
    public static Loaded read(ByteBuffer bytes, String source, ProducerStateTable into)
        throws CorruptSnapshotException {
        ByteBuffer buf = SnapshotFiles.checked(bytes, source, V1_HEADER_SIZE + CRC_SIZE, "a snapshot header");
        int size = buf.remaining();
        int end = size - CRC_SIZE;
        if (buf.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new CorruptSnapshotException(source, MAGIC_OFFSET, "bad magic");
        }
        short version = buf.getShort(VERSION_OFFSET);
        if (version != VERSION && version != VERSION_1) {
            throw new CorruptSnapshotException(source, VERSION_OFFSET, "unknown version " + version);
        }
        int headerSize = version == VERSION ? HEADER_SIZE : V1_HEADER_SIZE;
        if (end < headerSize) {
            throw new CorruptSnapshotException(source, -1L, "size " + size + " is smaller than a version "
                + version + " header");
        }
        long logOffset = buf.getLong(LOG_OFFSET_OFFSET);
        long maxProducerId = version == VERSION ? buf.getLong(MAX_PRODUCER_ID_OFFSET) : MAX_PRODUCER_ID_UNKNOWN;
        int entries = buf.getInt(version == VERSION ? ENTRY_COUNT_OFFSET : V1_ENTRY_COUNT_OFFSET);
        if (logOffset < 0 || entries < 0 || (version == VERSION && maxProducerId < -1)) {
            throw new CorruptSnapshotException(source, LOG_OFFSET_OFFSET, "bad header (logOffset " + logOffset
                + ", maxProducerId " + maxProducerId + ", entryCount " + entries + ")");
        }
        long idLimit = version == VERSION ? maxProducerId : Long.MAX_VALUE;
        // Check the shape of every entry before loading any, so a bad file leaves the table untouched.
        int position = headerSize;
        for (int i = 0; i < entries; i++) {
            if (end - position < ENTRY_HEADER_SIZE) {
                throw new CorruptSnapshotException(source, position, "entry " + i + " of " + entries + " truncated");
            }
            int batches = buf.get(position + ENTRY_BATCH_COUNT_OFFSET);
            long producerId = buf.getLong(position + ENTRY_PRODUCER_ID_OFFSET);
            if (batches < 1 || batches > ProducerStateTable.RETAINED_BATCHES || producerId < 0
                || producerId > idLimit || end - position - ENTRY_HEADER_SIZE < batches * BATCH_SIZE) {
                throw new CorruptSnapshotException(source, position, "entry " + i + " malformed (producerId "
                    + producerId + ", " + batches + " batches)");
            }
            position += ENTRY_HEADER_SIZE + batches * BATCH_SIZE;
        }
        if (position != end) {
            throw new CorruptSnapshotException(source, position, (end - position)
                + " bytes after the last entry");
        }
        position = headerSize;
        for (int i = 0; i < entries; i++) {
            long producerId = buf.getLong(position + ENTRY_PRODUCER_ID_OFFSET);
            short epoch = buf.getShort(position + ENTRY_EPOCH_OFFSET);
            long lastWriteMs = buf.getLong(position + ENTRY_LAST_WRITE_OFFSET);
            int batches = buf.get(position + ENTRY_BATCH_COUNT_OFFSET);
            position += ENTRY_HEADER_SIZE;
            for (int b = 0; b < batches; b++) {
                into.update(producerId, epoch, buf.getInt(position + BATCH_FIRST_SEQUENCE_OFFSET),
                    buf.getInt(position + BATCH_LAST_OFFSET_DELTA_OFFSET),
                    buf.getLong(position + BATCH_FIRST_OFFSET_OFFSET), lastWriteMs);
                position += BATCH_SIZE;
            }
        }
        return new Loaded(logOffset, maxProducerId);
    }

    /**
     * Streams entries through a fixed buffer, computing the CRC as it goes: into a channel (files), or into one
     * buffer large enough for everything ({@link #serialize}).
     */
    private static final class Writer implements ProducerEntryVisitor {
        private final FileChannel channel;
        private final ByteBuffer buffer;
        private final CRC32C crc = new CRC32C();
        private int crcFrom;

        Writer(FileChannel channel) {
            this.channel = channel;
            this.buffer = ByteBuffer.allocate(WRITE_BUFFER_SIZE);
        }

        Writer(ByteBuffer whole) {
            this.channel = null;
            this.buffer = whole;
        }

        void header(long logOffset, long maxProducerId, int entries) {
            buffer.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(logOffset).putLong(maxProducerId)
                .putInt(entries);
        }

        @Override
        public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
            if (buffer.remaining() < MAX_ENTRY_SIZE) {
                drain();
            }
            buffer.putLong(producerId).putShort(epoch).putLong(lastWriteMs).put((byte) batchCount);
        }

        @Override
        public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
            buffer.putInt(firstSequence).putInt(lastOffsetDelta).putLong(firstOffset);
        }

        void finish() throws IOException {
            try {
                drain();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            buffer.putInt((int) crc.getValue());
            if (channel != null) {
                buffer.flip();
                DurableFiles.writeFully(channel, buffer);
            }
        }

        private void drain() {
            crc.update(buffer.array(), crcFrom, buffer.position() - crcFrom);
            if (channel == null) {
                crcFrom = buffer.position(); // one buffer holds everything: nothing to write out
                return;
            }
            buffer.flip();
            try {
                DurableFiles.writeFully(channel, buffer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            buffer.clear();
        }
    }
}
