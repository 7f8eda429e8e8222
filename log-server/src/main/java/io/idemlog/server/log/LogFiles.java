package io.idemlog.server.log;

import java.nio.file.Path;

/**
 * Names of the files in a partition directory: {@code <20-digit base offset>.log} and {@code .index}, with
 * {@value #DELETED_SUFFIX} appended once retention removed the segment (the file stays readable for fetches in
 * flight until the delete delay passes). Twenty digits, zero-padded, so names sort like offsets.
 *
 * <p>A segment started by a roll is named {@code <base>.log}{@value #PENDING_SUFFIX} until the segment before it
 * is sealed (its data and index fsync'd, by the storage thread, after the roll): after a crash that name tells
 * recovery that the previous segment may have a torn tail, like the last one.
 */
final class LogFiles {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String DELETED_SUFFIX = ".deleted";
    static final String PENDING_SUFFIX = ".pending";
    static final String TOPICS_DIR = "topics";
    private static final int OFFSET_DIGITS = 20;

    private LogFiles() {
    }

    static Path logFile(Path dir, long baseOffset) {
        return dir.resolve(offsetName(baseOffset) + LOG_SUFFIX);
    }

    /** The name of a segment whose predecessor's seal has not completed. */
    static Path pendingLogFile(Path dir, long baseOffset) {
        return dir.resolve(offsetName(baseOffset) + LOG_SUFFIX + PENDING_SUFFIX);
    }

    static Path indexFile(Path dir, long baseOffset) {
        return dir.resolve(offsetName(baseOffset) + INDEX_SUFFIX);
    }

    static String offsetName(long offset) {
        return String.format("%020d", offset);
    }

    /** The offset in a name {@code <20 digits><suffix>}, or -1 when the name has another shape. */
    static long parseOffset(String name, String suffix) {
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

    static String partitionDirName(String topic, int partition) {
        return topic + "-" + partition;
    }

    /**
     * Whether {@code topic} is a legal topic name: 1..249 characters of [a-zA-Z0-9._-], not "." or ".." (as in
     * Kafka; the limit keeps {@code <topic>-<partition>} a legal file name).
     */
    static boolean isValidTopicName(String topic) {
        if (topic == null || topic.isEmpty() || topic.length() > 249 || topic.equals(".") || topic.equals("..")) {
            return false;
        }
        for (int i = 0; i < topic.length(); i++) {
            char c = topic.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
