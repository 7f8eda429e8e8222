package io.idemlog.consumer;

import org.apache.kafka.common.TopicPartition;

/**
 * A record failed its last attempt (or has no de-duplication key) and no dead-letter target is configured: the
 * consumer stops on it rather than skip it. Its position stays on the record, so the next poll (after the
 * application fixed the cause, or configured a dead-letter topic) sees it again.
 */
public final class PoisonRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient TopicPartition partition;
    private final long offset;
    private final int attempts;

    PoisonRecordException(TopicPartition partition, long offset, int attempts, Throwable cause) {
        super("record " + partition + "@" + offset + " failed " + attempts + " attempt(s) and no dead-letter target is "
            + "configured; the consumer stays on it: " + cause, cause);
        this.partition = partition;
        this.offset = offset;
        this.attempts = attempts;
    }

    /** The record's partition. */
    public TopicPartition partition() {
        return partition;
    }

    /** The record's offset. */
    public long offset() {
        return offset;
    }

    /** Attempts made. */
    public int attempts() {
        return attempts;
    }
}
