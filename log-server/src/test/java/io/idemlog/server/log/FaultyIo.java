package io.idemlog.server.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** {@link StorageIo#DIRECT} with switchable failures and a hook that runs just before every fsync. */
final class FaultyIo implements StorageIo {
    volatile boolean failWrites;
    /** Writes only this many bytes of the next batch, then fails (a torn write); -1 = off. */
    volatile int tearNextWriteAfter = -1;
    volatile boolean failForces;
    volatile Runnable beforeForce = () -> { };
    /** Told of every successful fsync, with the file's size then (a power-loss model keeps what was fsync'd). */
    volatile java.util.function.ObjLongConsumer<FileChannel> afterForce = (channel, size) -> { };
    volatile int forces;

    @Override
    public void write(FileChannel channel, ByteBuffer src, long position) throws IOException {
        if (failWrites) {
            throw new IOException("injected write failure");
        }
        int tear = tearNextWriteAfter;
        if (tear >= 0) {
            tearNextWriteAfter = -1;
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + tear);
            DIRECT.write(channel, part, position);
            throw new IOException("injected torn write");
        }
        DIRECT.write(channel, src, position);
    }

    @Override
    public void force(FileChannel channel) throws IOException {
        beforeForce.run();
        if (failForces) {
            throw new IOException("injected fsync failure");
        }
        long size = channel.size();
        DIRECT.force(channel);
        forces++;
        afterForce.accept(channel, size);
    }
}
