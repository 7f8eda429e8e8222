package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A snapshot of a partition's {@link KeyWindow}: every entry, oldest first, as the window was when the log ended at a
 * given offset. Named {@code <20-digit offset>.keys} in the partition directory, written next to the producer
 * snapshot of the same offset (at a segment roll and at a clean close), and through the same atomic write.
 *
 * <pre>
 *  offset size field
 *       0    4 magic        0x49444B57 "IDKW"
 *       4    2 version      1
 *       6    2 headerLength bytes of the dedup header name (UTF-8) the keys were taken from
 *       8    8 logOffset    the window covers exactly the records below this offset
 *      16    4 entryCount
 *      20    . header name  headerLength bytes
 *       .    . entries      entryCount times, oldest first: hash (8), offset (8), append time ms (8)
 *   end-4    4 crc          CRC-32C of every byte before it
 * </pre>
 *
 * The file naming, the atomic write and the CRC trailer are {@link SnapshotFiles}', shared with the producer
 * snapshot. Recovery loads the newest valid one at or below the log end whose header name is the partition's current one
 * (keys of another header say nothing about this one's), then replays the log after it.
 */
public final class KeyWindowFile {
    public static final String SUFFIX = ".keys";
    static final int MAGIC = 0x49444B57;
    static final short VERSION = 1;
    static final int HEADER_SIZE = 20;
    static final int ENTRY_SIZE = 24;
    static final int CRC_SIZE = SnapshotFiles.CRC_SIZE;

    /** What a snapshot said besides its entries. */
    public record Loaded(long logOffset, int entries) {
    }

    private KeyWindowFile() {
    }

    public static Path path(Path dir, long offset) {
        return SnapshotFiles.path(dir, offset, SUFFIX);
    }

    /** The log offset a file name stands for, or -1. */
    public static long offsetOf(Path file) {
        return SnapshotFiles.offsetOf(file, SUFFIX);
    }

    /** Log offsets of the key window snapshots in {@code dir}, ascending. */
    public static long[] list(Path dir) throws IOException {
        return SnapshotFiles.list(dir, SUFFIX);
    }

    public static void retainNewest(Path dir, int keep) throws IOException {
        SnapshotFiles.retainNewest(dir, SUFFIX, keep);
    }

    public static void deleteAbove(Path dir, long offset) throws IOException {
        SnapshotFiles.deleteAbove(dir, SUFFIX, offset);
    }

    /** The snapshot bytes of {@code window} at {@code logOffset}, in memory (24 bytes per key). */
    public static ByteBuffer serialize(long logOffset, String header, KeyWindow window) {
        byte[] name = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(HEADER_SIZE + name.length + window.size() * ENTRY_SIZE + CRC_SIZE);
        out.putInt(MAGIC).putShort(VERSION).putShort((short) name.length).putLong(logOffset).putInt(window.size())
            .put(name);
        window.forEachOldestFirst((hash, offset, timeMs) -> out.putLong(hash).putLong(offset).putLong(timeMs));
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.flip();
    }

    /**
     * Writes serialized bytes as the snapshot at {@code logOffset} (temporary file, fsync, rename; the caller
     * fsyncs the directory).
     */
    public static Path writeBytes(Path dir, long logOffset, ByteBuffer bytes) throws IOException {
        return SnapshotFiles.writeBytes(dir, logOffset, SUFFIX, bytes);
    }

    /**
     * Loads a snapshot file into {@code into} (which should be empty) when its header name is {@code header};
     * returns null when it is another header's. Checks the whole file before changing {@code into}.
     *
     * @throws CorruptSnapshotException when the content cannot be trusted
     */
    public static Loaded load(Path file, String header, KeyWindow into) throws IOException {
        ByteBuffer buf = SnapshotFiles.readWhole(file, HEADER_SIZE + CRC_SIZE, "a key snapshot");
        return read(buf, file.toString(), header, into);
    }

    /** Parses a whole file's bytes; for any bytes returns, returns null, or throws CorruptSnapshotException. */
    public static Loaded read(ByteBuffer bytes, String source, String header, KeyWindow into)
        throws CorruptSnapshotException {
        ByteBuffer buf = SnapshotFiles.checked(bytes, source, HEADER_SIZE + CRC_SIZE, "a key snapshot");
        int end = buf.remaining() - CRC_SIZE;
        if (buf.getInt(0) != MAGIC) {
            throw new CorruptSnapshotException(source, 0, "bad magic");
        }
        if (buf.getShort(4) != VERSION) {
            throw new CorruptSnapshotException(source, 4, "unknown version " + buf.getShort(4));
        }
        int nameLength = buf.getShort(6) & 0xFFFF;
        long logOffset = buf.getLong(8);
        int entries = buf.getInt(16);
        if (logOffset < 0 || entries < 0 || (long) HEADER_SIZE + nameLength + (long) entries * ENTRY_SIZE != end) {
            throw new CorruptSnapshotException(source, 8, "bad header (logOffset " + logOffset + ", "
                + entries + " entries, name of " + nameLength + " bytes, " + end + " bytes before the CRC)");
        }
        byte[] name = new byte[nameLength];
        buf.get(HEADER_SIZE, name);
        if (!Arrays.equals(name, header.getBytes(StandardCharsets.UTF_8))) {
            return null;
        }
        int position = HEADER_SIZE + nameLength;
        for (int i = 0; i < entries; i++) {
            long offset = buf.getLong(position + 8);
            if (offset < 0 || offset >= logOffset) {
                throw new CorruptSnapshotException(source, position, "entry " + i + ": offset " + offset
                    + " outside [0, " + logOffset + ")");
            }
            position += ENTRY_SIZE;
        }
        position = HEADER_SIZE + nameLength;
        for (int i = 0; i < entries; i++) {
            into.add(buf.getLong(position), buf.getLong(position + 8), buf.getLong(position + 16));
            position += ENTRY_SIZE;
        }
        return new Loaded(logOffset, entries);
    }
}
