package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A partition's {@link LeaderEpochCache} in its directory ({@value #FILE_NAME}): written through an atomic write (tmp,
 * fsync, rename, directory fsync) whenever an epoch is added (by the appending thread, before the epoch's first batch
 * is written: once per partition on a single node, once per leader change in a cluster) and when recovery cuts it,
 * so after a crash it is the old content or the new one. Recovery drops the entries at or after the recovered log
 * end (their first batch did not survive).
 *
 * <pre>
 *  offset size field
 *       0    4 magic            0x49444c45 "IDLE"
 *       4    2 version          1
 *       6    2 reserved         0
 *       8    4 count            >= 0
 *      12   12 x count          epoch (int32, strictly increasing, >= 0), start offset (int64, non-decreasing, >= 0)
 *  12+12n    4 crc              CRC-32C of every byte before it
 * </pre>
 *
 * <p>No file: a partition that has not yet appended anything, or a data directory written before this file existed
 * (every batch of those carries epoch 0, and recovery writes the file as one entry at the log's first offset). A
 * damaged file (size, magic, CRC, version, order) refuses to open the partition, naming the file: OffsetsForLeaderEpoch
 * answers from it, and a wrong answer makes consumers truncate what they consumed. Deleting the file is the operator's
 * way out on a single node (it is rebuilt as epoch 0 from the log start, which is what a single node wrote).
 */
public final class LeaderEpochFile {
    public static final String FILE_NAME = "leader-epochs";

    static final int MAGIC = 0x49444c45;
    static final short VERSION = 1;
    static final int HEADER_SIZE = 12;
    static final int ENTRY_SIZE = 12;
    static final int COUNT_OFFSET = 8;
    /** Far more epochs than any partition will see; bounds what a damaged count can make a reader allocate. */
    static final int MAX_ENTRIES = 1 << 20;

    private static final String ADVICE = "; refusing to open the partition rather than answer OffsetsForLeaderEpoch "
        + "wrongly (see docs/STORAGE.md, 'Leader epochs')";

    private LeaderEpochFile() {
    }

    public static Path path(Path partitionDir) {
        return partitionDir.resolve(FILE_NAME);
    }

    /**
     * The stored cache of the partition in {@code dir}, or null when there is no file.
     *
     * @throws CorruptFileException when the file is damaged
     */
    public static LeaderEpochCache readIfExists(Path dir) throws IOException {
        Path file = path(dir);
        if (!Files.exists(file)) {
            return null;
        }
        long size = Files.size(file);
        if (size < HEADER_SIZE + 4 || size > HEADER_SIZE + 4 + (long) ENTRY_SIZE * MAX_ENTRIES) {
            throw new CorruptFileException(file, -1L, "size " + size + ADVICE);
        }
        return parse(ByteBuffer.wrap(Files.readAllBytes(file)), file.toString());
    }

    /** Parses a whole file's content. For any bytes it returns a cache or throws {@link CorruptFileException}. */
    public static LeaderEpochCache parse(ByteBuffer bytes, String source) throws CorruptFileException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        int total = buf.remaining();
        if (total < HEADER_SIZE + 4) {
            throw new CorruptFileException(source, -1L, "size " + total + ", at least " + (HEADER_SIZE + 4)
                + " expected" + ADVICE);
        }
        if (buf.getInt(0) != MAGIC) {
            throw new CorruptFileException(source, 0, "bad magic " + Integer.toHexString(buf.getInt(0)) + ADVICE);
        }
        int count = buf.getInt(COUNT_OFFSET);
        if (count < 0 || count > MAX_ENTRIES || total != HEADER_SIZE + count * ENTRY_SIZE + 4) {
            throw new CorruptFileException(source, COUNT_OFFSET, "count " + count + " does not match the size "
                + total + ADVICE);
        }
        int crcAt = total - 4;
        if (crc(buf, crcAt) != buf.getInt(crcAt)) {
            throw new CorruptFileException(source, crcAt, "CRC mismatch" + ADVICE);
        }
        if (buf.getShort(4) != VERSION) {
            throw new CorruptFileException(source, 4, "unknown version " + buf.getShort(4) + ADVICE);
        }
        LeaderEpochCache cache = new LeaderEpochCache();
        for (int i = 0; i < count; i++) {
            int at = HEADER_SIZE + i * ENTRY_SIZE;
            int epoch = buf.getInt(at);
            long start = buf.getLong(at + 4);
            boolean ordered = epoch >= 0 && start >= 0 && (i == 0
                || (epoch > cache.latestEpoch() && start >= cache.startOffsetAt(i - 1)));
            if (!ordered) {
                throw new CorruptFileException(source, at, "entry " + i + " (epoch " + epoch + " at offset " + start
                    + ") is negative or out of order" + ADVICE);
            }
            cache.assign(epoch, start);
        }
        return cache;
    }

    /** The file's bytes for {@code cache}. */
    public static ByteBuffer serialize(LeaderEpochCache cache) {
        int n = cache.size();
        ByteBuffer buf = ByteBuffer.allocate(HEADER_SIZE + n * ENTRY_SIZE + 4);
        buf.putInt(0, MAGIC).putShort(4, VERSION).putShort(6, (short) 0).putInt(COUNT_OFFSET, n);
        for (int i = 0; i < n; i++) {
            int at = HEADER_SIZE + i * ENTRY_SIZE;
            buf.putInt(at, cache.epochAt(i)).putLong(at + 4, cache.startOffsetAt(i));
        }
        int crcAt = buf.capacity() - 4;
        buf.putInt(crcAt, crc(buf, crcAt));
        return buf;
    }

    /** Replaces the file atomically and durably (fsync'd, renamed, directory fsync'd) by one holding {@code cache}. */
    public static void write(Path dir, LeaderEpochCache cache) throws IOException {
        ByteBuffer buf = serialize(cache);
        DurableFiles.writeAtomically(path(dir), channel -> DurableFiles.writeFully(channel, buf));
    }

    private static int crc(ByteBuffer buf, int end) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().position(0).limit(end));
        return (int) crc.getValue();
    }
}
