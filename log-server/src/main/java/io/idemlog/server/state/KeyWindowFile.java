package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Recovery loads the newest valid one at or below the log end whose header name is the partition's current one
 * (keys of another header say nothing about this one's), then replays the log after it.
 */
public final class KeyWindowFile {
    public static final String SUFFIX = ".keys";
    static final int MAGIC = 0x49444B57;
    static final short VERSION = 1;
    static final int HEADER_SIZE = 20;
    static final int ENTRY_SIZE = 24;
    static final int CRC_SIZE = 4;
    private static final int OFFSET_DIGITS = 20;

    /** What a snapshot said besides its entries. */
    public record Loaded(long logOffset, int entries) {
    }

    private KeyWindowFile() {
    }

    public static Path path(Path dir, long offset) {
        return dir.resolve(String.format("%020d", offset) + SUFFIX);
    }

    /** The log offset a file name stands for, or -1. */
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

    /** Log offsets of the key window snapshots in {@code dir}, ascending. */
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

    public static void retainNewest(Path dir, int keep) throws IOException {
        long[] offsets = list(dir);
        for (int i = 0; i < offsets.length - keep; i++) {
            Files.deleteIfExists(path(dir, offsets[i]));
        }
    }

    public static void deleteAbove(Path dir, long offset) throws IOException {
        for (long o : list(dir)) {
            if (o > offset) {
                Files.deleteIfExists(path(dir, o));
            }
        }
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
        Path target = path(dir, logOffset);
        DurableFiles.writeAndRename(target, channel -> DurableFiles.writeFully(channel, bytes.duplicate()));
        return target;
    }

    /**
     * Loads a snapshot file into {@code into} (which should be empty) when its header name is {@code header};
     * returns null when it is another header's. Checks the whole file before changing {@code into}.
     *
     * @throws CorruptSnapshotException when the content cannot be trusted
     */
    public static Loaded load(Path file, String header, KeyWindow into) throws IOException {
        ByteBuffer buf;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_SIZE + CRC_SIZE || size > Integer.MAX_VALUE - 8) {
                throw new CorruptSnapshotException(file, -1L, "size " + size + " is not that of a key snapshot");
            }
            buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining()) {
                if (channel.read(buf, buf.position()) < 0) {
                    throw new CorruptSnapshotException(file, buf.position(), "shorter than its size when opened");
                }
            }
        }
        return read(buf.flip(), file.toString(), header, into);
    }

    /** Parses a whole file's bytes; for any bytes returns, returns null, or throws CorruptSnapshotException. */
    public static Loaded read(ByteBuffer bytes, String source, String header, KeyWindow into)
        throws CorruptSnapshotException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        int size = buf.remaining();
        if (size < HEADER_SIZE + CRC_SIZE) {
            throw new CorruptSnapshotException(source, -1L, "size " + size + " is smaller than a key snapshot");
        }
        int end = size - CRC_SIZE;
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().limit(end));
        if ((int) crc.getValue() != buf.getInt(end)) {
            throw new CorruptSnapshotException(source, end, "CRC mismatch");
        }
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
