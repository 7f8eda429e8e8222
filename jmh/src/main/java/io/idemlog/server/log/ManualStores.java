package io.idemlog.server.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import org.agrona.concurrent.EpochClock;

/**
 * A real {@link LogManager} for benchmarks of the request path (in the server's package: the seams are
 * package-private): no storage threads ({@link LogManager.Threads#MANUAL}: the benchmark thread is the only one, so
 * every durability callback runs on it), and segment writes that reach the page cache but skip the fsync, so that a
 * benchmark of the acks=all path measures the server's work around the group commit, not the disk.
 */
public final class ManualStores {
    /** Positional writes as in production; the fsync is a no-op. */
    private static final StorageIo NO_FSYNC = new StorageIo() {
        @Override
        public void write(FileChannel channel, ByteBuffer src, long position) throws IOException {
            StorageIo.DIRECT.write(channel, src, position);
        }

        @Override
        public void force(FileChannel channel) {
        }
    };

    private ManualStores() {
    }

    /** Opens {@code dataDir} without storage threads and without fsync. */
    public static LogManager open(Path dataDir, LogConfig config, EpochClock clock, HighWatermarkListener listener)
        throws IOException {
        return LogManager.open(dataDir, config, clock, listener, NO_FSYNC, LogManager.Threads.MANUAL);
    }

    /** What the storage threads would do next: pending seals of rolls, then one group-commit round. */
    public static int flushOnce(LogManager store) {
        return store.flushOnce();
    }
}
