package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A partition's log start offset as DeleteRecords moved it, in the partition directory ({@value #FILE_NAME}):
 * records below it are no longer served, even those still in a segment that also holds newer ones. Written through
 * an atomic write (tmp, fsync, rename, directory fsync) before DeleteRecords is answered, so after a crash it is the
 * old value or the new one. Per partition, as Kafka keeps it (a replica's log start offset, not cluster metadata),
 * so that a replicated partition's state machine can own it later with the rest of the partition's files.
 *
 * <pre>
 *  offset size field
 *       0    4 magic            0x49444c53 "IDLS"
 *       4    2 version          1
 *       6    2 reserved         0
 *       8    8 logStartOffset   >= 0
 *      16    4 crc              CRC-32C of bytes [0, 16)
 * </pre>
 *
 * <p>No file: no DeleteRecords ever moved the start, and the log starts at its first segment (retention moves it by
 * removing segments; the effective start is the larger of the two). A damaged file (size, magic, CRC, version, a
 * negative offset) refuses to open the partition, naming the file: guessing lower would serve records a client
 * deleted, and nothing else records the value. Deleting the file is the operator's way out (the log then starts at
 * its oldest remaining segment).
 */
public final class LogStartOffsetFile {
    public static final String FILE_NAME = "log-start-offset";

    static final int MAGIC = 0x49444c53;
    static final short VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int RESERVED_OFFSET = 6;
    static final int START_OFFSET = 8;
    static final int CRC_OFFSET = 16;
    static final int FILE_SIZE = 20;

    private static final String ADVICE = "; refusing to open the partition rather than serve records that "
        + "DeleteRecords deleted (deleting the file makes the log start at its oldest segment, see docs/STORAGE.md)";

    private LogStartOffsetFile() {
    }

    public static Path path(Path partitionDir) {
        return partitionDir.resolve(FILE_NAME);
    }

    /**
     * The stored log start offset of the partition in {@code dir}, or -1 when there is no file.
     *
     * @throws CorruptFileException when the file is damaged
     */
    public static long readIfExists(Path dir) throws IOException {
        Path file = path(dir);
        if (!Files.exists(file)) {
            return -1L;
        }
        long size = Files.size(file);
        if (size != FILE_SIZE) {
            throw new CorruptFileException(file, -1L, "size " + size + ", expected " + FILE_SIZE + ADVICE);
        }
        return parse(ByteBuffer.wrap(Files.readAllBytes(file)), file.toString());
    }

    /**
     * Parses a whole file's content ({@code bytes}' remaining bytes). For any bytes it returns an offset >= 0 or
     * throws {@link CorruptFileException}, nothing else.
     */
    public static long parse(ByteBuffer bytes, String source) throws CorruptFileException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        if (buf.remaining() != FILE_SIZE) {
            throw new CorruptFileException(source, -1L, "size " + buf.remaining() + ", expected " + FILE_SIZE
                + ADVICE);
        }
        if (buf.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new CorruptFileException(source, MAGIC_OFFSET, "bad magic "
                + Integer.toHexString(buf.getInt(MAGIC_OFFSET)) + ADVICE);
        }
        if (crc(buf) != buf.getInt(CRC_OFFSET)) {
            throw new CorruptFileException(source, CRC_OFFSET, "CRC mismatch" + ADVICE);
        }
        if (buf.getShort(VERSION_OFFSET) != VERSION) {
            throw new CorruptFileException(source, VERSION_OFFSET, "unknown version " + buf.getShort(VERSION_OFFSET)
                + ADVICE);
        }
        long start = buf.getLong(START_OFFSET);
        if (start < 0) {
            throw new CorruptFileException(source, START_OFFSET, "negative log start offset " + start + ADVICE);
        }
        return start;
    }

    /** Replaces the file atomically and durably (fsync'd, renamed, directory fsync'd) by one holding {@code start}. */
    public static void write(Path dir, long start) throws IOException {
        if (start < 0) {
            throw new IllegalArgumentException("negative log start offset " + start);
        }
        ByteBuffer buf = ByteBuffer.allocate(FILE_SIZE);
        buf.putInt(MAGIC_OFFSET, MAGIC).putShort(VERSION_OFFSET, VERSION).putShort(RESERVED_OFFSET, (short) 0)
            .putLong(START_OFFSET, start);
        buf.putInt(CRC_OFFSET, crc(buf));
        DurableFiles.writeAtomically(path(dir), channel -> DurableFiles.writeFully(channel, buf));
    }

    private static int crc(ByteBuffer buf) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().position(0).limit(CRC_OFFSET));
        return (int) crc.getValue();
    }
}
