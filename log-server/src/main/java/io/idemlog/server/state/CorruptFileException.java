package io.idemlog.server.state;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file of the data directory whose content cannot be trusted: its message names the file, where in it (when that
 * is known) and what is wrong, so that a refusal to start or a skipped file tells the operator exactly what to look
 * at. The one checked exception the storage loaders throw for bad content (I/O failures stay plain
 * {@link IOException}s); they never throw an unchecked exception for any bytes a file may hold.
 */
public class CorruptFileException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The file, as named when it was read; or a description of the source when bytes came from elsewhere. */
    private final String file;
    /** Byte position in the file where the damage starts, or -1 when it concerns the file as a whole. */
    private final long position;
    private final String problem;

    public CorruptFileException(Path file, long position, String problem) {
        this(String.valueOf(file), position, problem);
    }

    public CorruptFileException(String file, long position, String problem) {
        super(file + (position >= 0 ? " at byte " + position : "") + ": " + problem);
        this.file = file;
        this.position = position;
        this.problem = problem;
    }

    /** The file (its path as read), or the description of the bytes' source. */
    public String file() {
        return file;
    }

    /** Byte position of the damage, or -1 when it concerns the file as a whole. */
    public long position() {
        return position;
    }

    /** What is wrong, without the file name. */
    public String problem() {
        return problem;
    }
}
