package io.idemlog.client.internal;

import java.util.Arrays;

/**
 * The per-record side arrays of a batch (the caller's future or callback, and the record timestamp), recycled from
 * batch to batch so that appending records allocates nothing even amortised: a batch of 64 KiB holds ~600 small
 * records, whose arrays would otherwise cost ~7 KB per batch. Owned by one batch at a time.
 */
final class CompletionSlots {
    Object[] completions;
    long[] timestamps;

    CompletionSlots(int capacity) {
        completions = new Object[capacity];
        timestamps = new long[capacity];
    }

    int capacity() {
        return completions.length;
    }

    void grow() {
        int n = completions.length << 1;
        completions = Arrays.copyOf(completions, n);
        timestamps = Arrays.copyOf(timestamps, n);
    }
}
