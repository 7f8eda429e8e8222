package io.idemlog.server.state;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * <p>The file is not the only witness: every producer id that ever wrote to a partition is bounded by that
 * partition's {@code maxProducerId} (its snapshots record it, replay finds the rest), and {@link #open} is given
 * the largest of them. When the file is missing, or valid but below that bound (restored from an older backup), the
 * allocator starts above the bound plus {@value #RECOVERY_MARGIN} ids (ids handed out but never written anywhere
 * cannot be known: the margin covers the producers that were between InitProducerId and their first write), logs
 * it, and writes the file at once. A damaged file (wrong size, magic, version or CRC) refuses to start, naming the
 * file: deleting it is the operator's way out, after which the rule above applies.
 *
 * <p>Thread-safe (a lock; the fsync is taken once per block).
 */
public final class ProducerIdAllocator {
    public static final String FILE_NAME = "producer-ids";
    public static final int DEFAULT_BLOCK_SIZE = 1000;
    /**
     * Ids skipped above the highest id found in the partitions when the file cannot say where to start: ids
     * handed out before the loss whose producers had not written yet are at most this many.
     */
    public static final long RECOVERY_MARGIN = 1_000_000L;

    static final int MAGIC = 0x49445049;
    static final short VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = MAGIC_OFFSET + 4;
    static final int RESERVED_OFFSET = VERSION_OFFSET + 2;
    static final int RESERVED_END_OFFSET = RESERVED_OFFSET + 2;
    static final int CRC_OFFSET = RESERVED_END_OFFSET + 8;
    static final int FILE_SIZE = CRC_OFFSET + 4;

    private static final Logger LOG = LoggerFactory.getLogger(ProducerIdAllocator.class);
    private static final String ADVICE = "; refusing to hand out producer ids that might be reused (deleting the file "
        + "lets the server recover from the producer ids in the partitions, see docs/STORAGE.md)";

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

    /** {@link #open(Path, int, long)} for a directory whose partitions hold no producer id. */
    public static ProducerIdAllocator open(Path dataDir, int blockSize) throws IOException {
        return open(dataDir, blockSize, -1L);
    }

    /**
     * Opens the allocator of a data directory: the next id handed out is the persisted high-water mark (0 for a new
     * directory), or, when the file is missing or below {@code maxProducerIdInLogs}, above that id plus
     * {@link #RECOVERY_MARGIN}, rounded up to a block (and the file is written at once).
     *
     * @param maxProducerIdInLogs the highest producer id held by any partition's log or producer state; -1 for none
     * @throws CorruptFileException when the file exists but is damaged: starting over could hand out used ids, so
     *                              this is left to an operator (the message names the file and what is wrong)
     */
    public static ProducerIdAllocator open(Path dataDir, int blockSize, long maxProducerIdInLogs) throws IOException {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1: " + blockSize);
        }
        Path file = dataDir.resolve(FILE_NAME);
        Files.deleteIfExists(file.resolveSibling(FILE_NAME + DurableFiles.TMP_SUFFIX));
        long stored = readIfExists(dataDir);
        long start = stored < 0 ? 0L : stored;
        if (maxProducerIdInLogs >= start) {
            // Saturating: a client may have written with an absurd id it was never given; the space then ends
            // early (InitProducerId fails with a storage error) rather than the start failing or wrapping.
            long floor = saturatedAdd(maxProducerIdInLogs, 1 + RECOVERY_MARGIN);
            long recovered = Math.min(Long.MAX_VALUE, saturatedAdd(floor, blockSize - 1) / blockSize * blockSize);
            if (stored < 0) {
                LOG.warn("{} is missing but the partitions hold producer ids up to {}: the file was lost or deleted; "
                    + "producer ids continue at {} (above every id in the logs, plus a margin of {})", file,
                    maxProducerIdInLogs, recovered, RECOVERY_MARGIN);
            } else {
                LOG.warn("{} says producer ids below {} were handed out, but the partitions hold producer ids up to {}: "
                    + "the file is older than the logs (restored from a backup?); producer ids continue at {} (above "
                    + "every id in the logs, plus a margin of {})", file, stored, maxProducerIdInLogs, recovered,
                    RECOVERY_MARGIN);
            }
            write(file, recovered);
            start = recovered;
        }
        return new ProducerIdAllocator(file, blockSize, start);
    }

    /**
     * The high-water mark stored in {@code dataDir}'s file, or -1 when there is no file.
     *
     * @throws CorruptFileException when the file is damaged
     */
    public static long readIfExists(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return -1L;
        }
        long size = Files.size(file);
        if (size != FILE_SIZE) {
            throw new CorruptFileException(file, -1L, "size " + size + ", expected " + FILE_SIZE + ADVICE);
        }
        return parse(ByteBuffer.wrap(Files.readAllBytes(file)), file.toString());
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** The next id this allocator would hand out (for logs and the verifier). */
    public synchronized long peekNext() {
        return next;
    }

    /** A producer id never handed out before. */
    public synchronized long nextProducerId() throws IOException {
        if (next == reservedEnd) {
            if (reservedEnd > Long.MAX_VALUE - blockSize) {
                throw new IOException("producer id space exhausted: " + file + " is at " + reservedEnd);
            }
            long newEnd = reservedEnd + blockSize;
            write(file, newEnd);
            reservedEnd = newEnd;
        }
        return next++;
    }

    /**
     * Parses the whole content of a producer-ids file ({@code bytes}' remaining bytes) and returns its high-water
     * mark. The entry point for the loader, the verifier and the fuzz target: for any bytes it returns or throws
     * {@link CorruptFileException}, nothing else.
     *
     * @param source names the bytes in messages (the file's path)
     */
    public static long parse(ByteBuffer bytes, String source) throws CorruptFileException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        if (buf.remaining() != FILE_SIZE) {
            throw new CorruptFileException(source, -1L, "size " + buf.remaining() + ", expected " + FILE_SIZE
                + ADVICE);
        }
        if (buf.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new CorruptFileException(source, MAGIC_OFFSET, "bad magic " + Integer.toHexString(
                buf.getInt(MAGIC_OFFSET)) + ADVICE);
        }
        if (crc(buf) != buf.getInt(CRC_OFFSET)) {
            throw new CorruptFileException(source, CRC_OFFSET, "CRC mismatch" + ADVICE);
        }
        if (buf.getShort(VERSION_OFFSET) != VERSION) {
            throw new CorruptFileException(source, VERSION_OFFSET, "unknown version " + buf.getShort(VERSION_OFFSET)
                + ADVICE);
        }
        long reservedEnd = buf.getLong(RESERVED_END_OFFSET);
        if (reservedEnd < 0) {
            throw new CorruptFileException(source, RESERVED_END_OFFSET, "negative high-water mark " + reservedEnd
                + ADVICE);
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
        crc.update(buf.duplicate().position(0).limit(CRC_OFFSET));
        return (int) crc.getValue();
    }
}
