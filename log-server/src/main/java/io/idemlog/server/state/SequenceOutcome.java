package io.idemlog.server.state;

import io.idemlog.common.protocol.ErrorCode;

/**
 * What the producer state says about one produced batch (IDEMPOTENCE.md, "Validating a produced batch"). Returned
 * by {@link ProducerStateTable#check}: an outcome, not an exception, because rejected and duplicate batches are
 * ordinary traffic (retries, fenced zombies), not faults.
 */
public enum SequenceOutcome {
    /** producerId -1: not an idempotent batch; append it as is and keep no state. */
    NOT_IDEMPOTENT(ErrorCode.NONE),
    /** In sequence (or a new epoch starting at 0, or a producer we know nothing of): append it. */
    ACCEPT(ErrorCode.NONE),
    /** The same epoch and sequences as one of the producer's last 5 batches: append nothing, answer the original. */
    DUPLICATE(ErrorCode.NONE),
    /** producerId below -1, or an idempotent producerId with a negative base sequence. */
    INVALID_RECORD(ErrorCode.INVALID_RECORD),
    /** An epoch older than the producer's current one: a fenced, older incarnation of the producer. */
    FENCED(ErrorCode.INVALID_PRODUCER_EPOCH),
    /** A gap, an old sequence outside the 5 cached batches, or a new epoch not starting at sequence 0. */
    OUT_OF_ORDER(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    private final ErrorCode error;

    SequenceOutcome(ErrorCode error) {
        this.error = error;
    }

    /** The Produce error code for this outcome; NONE for the three outcomes that are answered as a success. */
    public ErrorCode error() {
        return error;
    }

    /** True when the batch must be written to the log. */
    public boolean appends() {
        return this == ACCEPT || this == NOT_IDEMPOTENT;
    }
}
