package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Hands out producer ids that are never reused, also across crashes. Ids are reserved in blocks: before the first id
 * of a block is returned, the block's end (the new high-water mark) is written to the {@value #FILE_NAME} file and
 * fsync'd, so after a crash the server restarts above every id it may have handed out. A crash wastes at most the
 * unused rest of one block.
 *
 * <pre>
 *  offset size field
 *       0    4 magic          0x49445049 "IDPI"
 *       4    2 version        1
 *       6    2 reserved       0
 *       8    8 reservedEnd    every id below it may have been handed out; the next start begins here
 *      16    4 crc            CRC-32C of bytes [0, 16)
 * </pre>
 *
 * <p>Thread-safe (a lock; the fsync is taken once per block).
 */
public final class ProducerIdAllocator {
    public static final String FILE_NAME = "producer-ids";
    public static final int DEFAULT_BLOCK_SIZE = 1000;

    static final int MAGIC = 0x49445049;
    static final short VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + 4;
    static final int RESERVED_OFFSET = VERSION_OFFSET + 2;
    static final int RESERVED_END_OFFSET = RESERVED_OFFSET + 2;
    static final int CRC_OFFSET = RESERVED_END_OFFSET + 8;
    static final int FILE_SIZE = CRC_OFFSET + 4;

    private final Path file;
    private final int blockSize;
    private long next;
    private long reservedEnd;

    private ProducerIdAllocator(Path file, int blockSize, long reservedEnd) {
        this.file = file;
        this.blockSize = blockSize;
        this.next = reservedEnd;
        this.reservedEnd = reservedEnd;
    }

    /**
     * Opens the allocator of a data directory: the next id handed out is the persisted high-water mark (0 for a new
     * directory).
     *
     * @throws IOException when the file exists but is damaged: starting over could hand out used ids, so this is
     *                     left to an operator
     */
    public static ProducerIdAllocator open(Path dataDir, int blockSize) throws IOException {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1: " + blockSize);
        }
        Path file = dataDir.resolve(FILE_NAME);
        Files.deleteIfExists(file.resolveSibling(FILE_NAME + DurableFiles.TMP_SUFFIX));
        long reservedEnd = 0L;
        if (Files.exists(file)) {
            reservedEnd = read(file);
        }
        return new ProducerIdAllocator(file, blockSize, reservedEnd);
    }

    /** A producer id never handed out before. */
    public synchronized long nextProducerId() throws IOException {
        if (next == reservedEnd) {
            long newEnd = Math.addExact(reservedEnd, blockSize);
            write(file, newEnd);
            reservedEnd = newEnd;
        }
        return next++;
    }

    private static long read(Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(FILE_SIZE);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() != FILE_SIZE) {
                throw new IOException(file + ": size " + channel.size() + ", expected " + FILE_SIZE);
            }
            while (buf.hasRemaining() && channel.read(buf, buf.position()) >= 0) {
                // read until full
            }
        }
        if (buf.hasRemaining() || buf.getInt(MAGIC_OFFSET) != MAGIC || buf.getShort(VERSION_OFFSET) != VERSION
            || crc(buf) != buf.getInt(CRC_OFFSET)) {
            throw new IOException(file + " is damaged; refusing to allocate producer ids that might be reused");
        }
        long reservedEnd = buf.getLong(RESERVED_END_OFFSET);
        if (reservedEnd < 0) {
            throw new IOException(file + ": negative high-water mark " + reservedEnd);
        }
        return reservedEnd;
    }

    private static void write(Path file, long reservedEnd) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(FILE_SIZE);
        buf.putInt(MAGIC_OFFSET, MAGIC).putShort(VERSION_OFFSET, VERSION).putShort(RESERVED_OFFSET, (short) 0)
            .putLong(RESERVED_END_OFFSET, reservedEnd);
        buf.putInt(CRC_OFFSET, crc(buf));
        DurableFiles.writeAtomically(file, channel -> DurableFiles.writeFully(channel, buf));
    }

    private static int crc(ByteBuffer buf) {
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, CRC_OFFSET);
        return (int) crc.getValue();
    }
}
