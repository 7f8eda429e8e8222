package io.idemlog.server.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A producer state snapshot: the whole {@link ProducerStateTable} of a partition (every producer with ALL its cached
 * batches, its epoch and last write time) as it was when the log ended at a given offset. Named
 * {@code <20-digit offset>.snapshot}, in the partition directory.
 *
 * <pre>
 *  offset size field
 *       0    4 magic            0x49445053 "IDPS"
 *       4    2 version          1
 *       6    2 reserved         0
 *       8    8 logOffset        the state covers exactly the batches below this offset
 *      16    4 entryCount
 *      20    . entries          entryCount times, least recently written producer first:
 *                 0    8 producerId
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
 * entries through {@link ProducerStateTable#update}, which rebuilds the LRU order as it was.
 *
 * <p>Written through {@link DurableFiles#writeAtomically} (temporary file, fsync, atomic rename, directory fsync):
 * after a crash a snapshot file is either absent or complete.
 */
public final class ProducerSnapshotFile {
    public static final String SUFFIX = ".snapshot";

    static final int MAGIC = 0x49445053;
    static final short VERSION = 1;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + 4;
    static final int RESERVED_OFFSET = VERSION_OFFSET + 2;
    static final int LOG_OFFSET_OFFSET = RESERVED_OFFSET + 2;
    static final int ENTRY_COUNT_OFFSET = LOG_OFFSET_OFFSET + 8;
    static final int HEADER_SIZE = ENTRY_COUNT_OFFSET + 4;

    static final int ENTRY_PRODUCER_ID_OFFSET = 0;
    static final int ENTRY_EPOCH_OFFSET = ENTRY_PRODUCER_ID_OFFSET + 8;
    static final int ENTRY_LAST_WRITE_OFFSET = ENTRY_EPOCH_OFFSET + 2;
    static final int ENTRY_BATCH_COUNT_OFFSET = ENTRY_LAST_WRITE_OFFSET + 8;
    static final int ENTRY_HEADER_SIZE = ENTRY_BATCH_COUNT_OFFSET + 1;

    static final int BATCH_FIRST_SEQUENCE_OFFSET = 0;
    static final int BATCH_LAST_OFFSET_DELTA_OFFSET = BATCH_FIRST_SEQUENCE_OFFSET + 4;
    static final int BATCH_FIRST_OFFSET_OFFSET = BATCH_LAST_OFFSET_DELTA_OFFSET + 4;
    static final int BATCH_SIZE = BATCH_FIRST_OFFSET_OFFSET + 8;

    static final int CRC_SIZE = 4;
    private static final int MAX_ENTRY_SIZE = ENTRY_HEADER_SIZE + ProducerStateTable.RETAINED_BATCHES * BATCH_SIZE;
    private static final int WRITE_BUFFER_SIZE = 64 * 1024;
    private static final int OFFSET_DIGITS = 20;

    private ProducerSnapshotFile() {
    }

    /** The snapshot file for log offset {@code offset} in {@code dir}. */
    public static Path path(Path dir, long offset) {
        return dir.resolve(String.format("%020d", offset) + SUFFIX);
    }

    /** The log offset a snapshot file name stands for, or -1 when the name is not one of a snapshot. */
    public static long offsetOf(Path file) {
        String name = file.getFileName().toString();
        if (name.length() != OFFSET_DIGITS + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return -1L;
        }
        for (int i = 0; i < OFFSET_DIGITS; i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return -1L;
            }
        }
        try {
            return Long.parseLong(name, 0, OFFSET_DIGITS, 10);
        } catch (NumberFormatException e) {
            return -1L;
        }
    }

    /** Log offsets of the snapshot files in {@code dir}, ascending. */
    public static long[] list(Path dir) throws IOException {
        long[] offsets = new long[8];
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path file : files) {
                long offset = offsetOf(file);
                if (offset >= 0) {
                    if (n == offsets.length) {
                        offsets = Arrays.copyOf(offsets, n * 2);
                    }
                    offsets[n++] = offset;
                }
            }
        }
        long[] result = Arrays.copyOf(offsets, n);
        Arrays.sort(result);
        return result;
    }

    /** Deletes every snapshot in {@code dir} except the {@code keep} newest. */
    public static void retainNewest(Path dir, int keep) throws IOException {
        long[] offsets = list(dir);
        for (int i = 0; i < offsets.length - keep; i++) {
            Files.deleteIfExists(path(dir, offsets[i]));
        }
    }

    /** Deletes every snapshot in {@code dir} above {@code offset} (they describe records that are gone). */
    public static void deleteAbove(Path dir, long offset) throws IOException {
        for (long o : list(dir)) {
            if (o > offset) {
                Files.deleteIfExists(path(dir, o));
            }
        }
    }

    /** Writes {@code table} durably as the snapshot at {@code logOffset} in {@code dir}; returns its path. */
    public static Path write(Path dir, long logOffset, ProducerStateTable table) throws IOException {
        Path target = path(dir, logOffset);
        DurableFiles.writeAtomically(target, channel -> {
            Writer writer = new Writer(channel);
            writer.header(logOffset, table.size());
            try {
                table.forEachOldestFirst(writer);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            writer.finish();
        });
        return target;
    }

    /**
     * Loads a snapshot into {@code into} (which should be empty) and returns the log offset it covers. Checks the
     * whole file (size, magic, version, CRC, every entry's shape) before it changes {@code into}.
     *
     * @throws CorruptSnapshotException when the file cannot be trusted
     */
    public static long load(Path file, ProducerStateTable into) throws IOException {
        ByteBuffer buf;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_SIZE + CRC_SIZE || size > Integer.MAX_VALUE - 8) {
                throw new CorruptSnapshotException(file + ": bad size " + size);
            }
            buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining()) {
                if (channel.read(buf, buf.position()) < 0) {
                    throw new CorruptSnapshotException(file + ": shorter than announced");
                }
            }
        }
        int end = buf.capacity() - CRC_SIZE;
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, end);
        if ((int) crc.getValue() != buf.getInt(end)) {
            throw new CorruptSnapshotException(file + ": CRC mismatch");
        }
        if (buf.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new CorruptSnapshotException(file + ": bad magic");
        }
        if (buf.getShort(VERSION_OFFSET) != VERSION) {
            throw new CorruptSnapshotException(file + ": unknown version " + buf.getShort(VERSION_OFFSET));
        }
        long logOffset = buf.getLong(LOG_OFFSET_OFFSET);
        int entries = buf.getInt(ENTRY_COUNT_OFFSET);
        if (logOffset < 0 || entries < 0) {
            throw new CorruptSnapshotException(file + ": bad header");
        }
        // Check the shape of every entry before loading any, so a bad file leaves the table untouched.
        int position = HEADER_SIZE;
        for (int i = 0; i < entries; i++) {
            if (end - position < ENTRY_HEADER_SIZE) {
                throw new CorruptSnapshotException(file + ": entry " + i + " truncated");
            }
            int batches = buf.get(position + ENTRY_BATCH_COUNT_OFFSET);
            if (batches < 1 || batches > ProducerStateTable.RETAINED_BATCHES
                || buf.getLong(position + ENTRY_PRODUCER_ID_OFFSET) < 0
                || end - position - ENTRY_HEADER_SIZE < batches * BATCH_SIZE) {
                throw new CorruptSnapshotException(file + ": entry " + i + " malformed");
            }
            position += ENTRY_HEADER_SIZE + batches * BATCH_SIZE;
        }
        if (position != end) {
            throw new CorruptSnapshotException(file + ": " + (end - position) + " bytes after the last entry");
        }
        position = HEADER_SIZE;
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
        return logOffset;
    }

    /** Streams entries into a channel through a fixed buffer, computing the CRC as it goes. */
    private static final class Writer implements ProducerEntryVisitor {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(WRITE_BUFFER_SIZE);
        private final CRC32C crc = new CRC32C();

        Writer(FileChannel channel) {
            this.channel = channel;
        }

        void header(long logOffset, int entries) {
            buffer.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(logOffset).putInt(entries);
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
            buffer.putInt((int) crc.getValue()).flip();
            DurableFiles.writeFully(channel, buffer);
        }

        private void drain() {
            buffer.flip();
            crc.update(buffer.array(), 0, buffer.limit());
            try {
                DurableFiles.writeFully(channel, buffer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            buffer.clear();
        }
    }
}
