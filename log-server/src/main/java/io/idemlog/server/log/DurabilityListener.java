package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

/**
 * The allocation-free form of {@link DurabilityCallback}: one listener waits for many offsets, each registration
 * naming its own {@code token} ({@link Partition#whenDurable(long, DurabilityListener, int)}), which comes back with
 * the answer. So a waiter that tracks several batches (the produce handler's acks=all request: one listener per
 * request, the token its partition's index) needs no object per batch, where a callback needs one per registration
 * to know which batch it answers. The partition keeps the token in a primitive array beside the listener.
 *
 * <p>Same contract as the callback: called exactly once per registration, with NONE once the offset is durable or
 * KAFKA_STORAGE_ERROR when it can never be (a failed fsync or write, or the log closed first); at once on the
 * registering thread when the answer is already known, otherwise later on the thread that advances the partition's
 * high watermark, in offset order (then registration order).
 */
@FunctionalInterface
public interface DurabilityListener {
    /**
     * @param token the registration's token, as given to {@link Partition#whenDurable(long, DurabilityListener, int)}
     * @param error NONE when durable, else why it never will be
     */
    void onDurable(int token, ErrorCode error);
}
