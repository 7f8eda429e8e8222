package io.idemlog.server.network;

import io.idemlog.common.protocol.Records;

import java.nio.file.Path;

/** A RECORDS field backed by a byte range of a segment file, sent zero-copy (sendfile) by the transport. */
public record FileRecords(Path file, long position, int size) implements Records {
    @Override
    public int sizeInBytes() {
        return size;
    }
}
