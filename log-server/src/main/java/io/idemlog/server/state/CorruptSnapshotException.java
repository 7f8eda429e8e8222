package io.idemlog.server.state;

import java.nio.file.Path;

/** A producer state snapshot that cannot be trusted: truncated, bad CRC, unknown version, malformed entries. */
public final class CorruptSnapshotException extends CorruptFileException {
    private static final long serialVersionUID = 1L;

    public CorruptSnapshotException(Path file, long position, String problem) {
        super(file, position, problem);
    }

    public CorruptSnapshotException(String file, long position, String problem) {
        super(file, position, problem);
    }
}
