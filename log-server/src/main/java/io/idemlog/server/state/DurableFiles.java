package io.idemlog.server.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writing a small file so that after a crash it is either the old version or the complete new one: write a
 * temporary file, fsync it, rename it over the target atomically, fsync the directory (without the last step the
 * rename itself may not survive a power loss on ext4/xfs).
 */
public final class DurableFiles {
    /** Suffix of the temporary file written before the atomic rename; leftovers are deleted on start. */
    public static final String TMP_SUFFIX = ".tmp";

    /** Writes a file's whole content to an open channel. */
    @FunctionalInterface
    public interface ContentWriter {
        void writeTo(FileChannel channel) throws IOException;
    }

    private DurableFiles() {
    }

    /** Replaces {@code target} atomically and durably by what {@code writer} writes. */
    public static void writeAtomically(Path target, ContentWriter writer) throws IOException {
        writeAndRename(target, writer);
        fsyncDirectory(target.getParent());
    }

    /**
     * {@link #writeAtomically} without its last step: the new content is durable and renamed over {@code target},
     * but the rename becomes durable only with the caller's next {@link #fsyncDirectory} (one directory fsync for
     * several files, as a segment seal does). Until then a crash leaves either the old or the new file.
     */
    public static void writeAndRename(Path target, ContentWriter writer) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + TMP_SUFFIX);
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.writeTo(channel);
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system cannot rename " + tmp + " atomically", e);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Makes the directory's entries (created, renamed, deleted files) durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Writes every remaining byte of {@code buffer} at the channel's position. */
    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
