package io.idemlog.server.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The two data-path system calls of a segment: the positional write of an appended batch and the fsync that makes
 * it durable. A seam so that tests can inject disk failures and watch the order of events (a high watermark must
 * never move before its fsync); production uses {@link #DIRECT}.
 */
interface StorageIo {
    /** Writes all remaining bytes of {@code src} at {@code position}. */
    void write(FileChannel channel, ByteBuffer src, long position) throws IOException;

    /** Makes the file's data durable (fdatasync: metadata other than the size is not needed). */
    void force(FileChannel channel) throws IOException;

    StorageIo DIRECT = new StorageIo() {
        @Override
        public void write(FileChannel channel, ByteBuffer src, long position) throws IOException {
            long p = position;
            while (src.hasRemaining()) {
                p += channel.write(src, p);
            }
        }

        @Override
        public void force(FileChannel channel) throws IOException {
            channel.force(false);
        }
    };
}
