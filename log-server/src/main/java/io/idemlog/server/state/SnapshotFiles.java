package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The framing that a partition's snapshot files share ({@link ProducerSnapshotFile} {@code .snapshot},
 * {@link KeyWindowFile} {@code .keys}): one file per log offset, named {@code <20-digit offset><suffix>} in the
 * partition directory; written whole to a temporary file, fsync'd and renamed (the caller fsyncs the directory);
 * read whole, with a CRC-32C of every byte before it as the last 4 bytes. Each format's own header and entries are
 * its class's business.
 */
final class SnapshotFiles {
    static final int CRC_SIZE = 4;
    /** Larger files are refused unread: far beyond what any configured limit can produce. */
    static final long MAX_FILE_SIZE = Integer.MAX_VALUE - 8;
    private static final int OFFSET_DIGITS = 20;

    private SnapshotFiles() {
    }

    static Path path(Path dir, long offset, String suffix) {
        return dir.resolve(String.format("%020d", offset) + suffix);
    }

    /** The log offset a file name stands for, or -1 when it is not {@code <20 digits><suffix>}. */
    static long offsetOf(Path file, String suffix) {
        String name = file.getFileName().toString();
        if (name.length() != OFFSET_DIGITS + suffix.length() || !name.endsWith(suffix)) {
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

    /** Log offsets of the files with this suffix in {@code dir}, ascending. */
    static long[] list(Path dir, String suffix) throws IOException {
        long[] offsets = new long[8];
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + suffix)) {
            for (Path file : files) {
                long offset = offsetOf(file, suffix);
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

    /** Deletes every file with this suffix in {@code dir} except the {@code keep} newest. */
    static void retainNewest(Path dir, String suffix, int keep) throws IOException {
        long[] offsets = list(dir, suffix);
        for (int i = 0; i < offsets.length - keep; i++) {
            Files.deleteIfExists(path(dir, offsets[i], suffix));
        }
    }

    /** Deletes every file with this suffix in {@code dir} above {@code offset} (they describe records now gone). */
    static void deleteAbove(Path dir, String suffix, long offset) throws IOException {
        for (long o : list(dir, suffix)) {
            if (o > offset) {
                Files.deleteIfExists(path(dir, o, suffix));
            }
        }
    }

    /** Writes whole-file bytes as the file at {@code offset} (temporary file, fsync, rename); returns its path. */
    static Path writeBytes(Path dir, long offset, String suffix, ByteBuffer bytes) throws IOException {
        Path target = path(dir, offset, suffix);
        DurableFiles.writeAndRename(target, channel -> DurableFiles.writeFully(channel, bytes.duplicate()));
        return target;
    }

    /**
     * Reads a whole file whose size must be in [{@code minSize}, {@link #MAX_FILE_SIZE}].
     *
     * @param kind names the format in the message, e.g. "a snapshot"
     */
    static ByteBuffer readWhole(Path file, int minSize, String kind) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < minSize || size > MAX_FILE_SIZE) {
                throw new CorruptSnapshotException(file, -1L, "size " + size + " is not that of " + kind);
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining()) {
                if (channel.read(buf, buf.position()) < 0) {
                    throw new CorruptSnapshotException(file, buf.position(), "shorter than its size when opened");
                }
            }
            return buf.flip();
        }
    }

    /**
     * {@code bytes}' remaining bytes as a big-endian buffer from index 0, once they are at least {@code minSize}
     * long and their CRC-32C trailer matches; the content ends at {@code limit() - CRC_SIZE}. Never moves
     * {@code bytes}' position.
     *
     * @param tooSmall what the message says the bytes are smaller than, e.g. "a key snapshot"
     */
    static ByteBuffer checked(ByteBuffer bytes, String source, int minSize, String tooSmall)
        throws CorruptSnapshotException {
        ByteBuffer buf = bytes.slice().order(ByteOrder.BIG_ENDIAN);
        int size = buf.remaining();
        if (size < minSize) {
            throw new CorruptSnapshotException(source, -1L, "size " + size + " is smaller than " + tooSmall);
        }
        int end = size - CRC_SIZE;
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().limit(end));
        if ((int) crc.getValue() != buf.getInt(end)) {
            throw new CorruptSnapshotException(source, end, "CRC mismatch");
        }
        return buf;
    }
}
