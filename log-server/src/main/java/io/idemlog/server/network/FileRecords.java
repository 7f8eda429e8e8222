package io.idemlog.server.network;

import io.idemlog.common.protocol.Records;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A RECORDS field backed by a byte range of a segment file, sent zero-copy (sendfile) by the transport.
 * {@code channel} belongs to the log and stays open while the segment is readable; it is never closed here.
 * When there is no channel (test doubles), {@code file} is opened for the send instead.
 */
public record FileRecords(Path file, FileChannel channel, long position, int size) implements Records {
    @Override
    public int sizeInBytes() {
        return size;
    }
}
