package io.idemlog.server.state;

import java.io.IOException;

/** A producer state snapshot that cannot be trusted: truncated, bad CRC, unknown version, malformed entries. */
public final class CorruptSnapshotException extends IOException {
    private static final long serialVersionUID = 1L;

    public CorruptSnapshotException(String message) {
        super(message);
    }
}
