package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

/**
 * What the produce path reads of one append's outcome, whichever form it comes in: the reused, mutable
 * {@link AppendOutcome} of the synchronous append or the immutable {@link AppendResult} of the asynchronous one
 * (replicated partitions). Lets one piece of code count the outcome and fill the answer for both. See
 * {@link AppendResult} for what each component means.
 */
public interface AppendAnswer {
    ErrorCode error();

    long baseOffset();

    long lastOffset();

    boolean duplicate();

    String errorMessage();

    long[] repeats();

    /** Records of the batch dropped as repeats of stored de-duplication keys. */
    int repeatCount();

    long logAppendTime();
}
