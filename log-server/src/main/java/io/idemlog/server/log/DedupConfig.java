package io.idemlog.server.log;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * De-duplication by record-header key for one topic (docs/DEDUP.md): the header whose value is a record's key
 * (empty = off), how long a stored key keeps a repeat out (server append time), and how many keys a partition keeps
 * at most (the oldest is evicted beyond, counted). Topic configs {@code dedup.header}, {@code dedup.window.ms},
 * {@code dedup.max.keys}; broker defaults {@code log.dedup.header}, {@code log.dedup.window.ms},
 * {@code log.dedup.max.keys}.
 *
 * @param header   the record header holding the key; "" = de-duplication off
 * @param windowMs a key stored less than this long ago (server time) makes a later record with it a repeat; > 0
 * @param maxKeys  keys kept per partition; > 0
 */
public record DedupConfig(String header, long windowMs, int maxKeys) {
    public static final long DEFAULT_WINDOW_MS = 120_000L;
    public static final int DEFAULT_MAX_KEYS = 1_000_000;
    /** The window size bound of {@link io.idemlog.server.state.KeyWindow}. */
    public static final int MAX_MAX_KEYS = 1 << 29;
    public static final DedupConfig OFF = new DedupConfig("", DEFAULT_WINDOW_MS, DEFAULT_MAX_KEYS);

    public DedupConfig {
        Objects.requireNonNull(header, "header");
        if (windowMs <= 0) {
            throw new IllegalArgumentException("dedup window must be > 0 ms: " + windowMs);
        }
        if (maxKeys <= 0 || maxKeys > MAX_MAX_KEYS) {
            throw new IllegalArgumentException("dedup max keys must be in [1, " + MAX_MAX_KEYS + "]: " + maxKeys);
        }
    }

    public boolean enabled() {
        return !header.isEmpty();
    }

    byte[] headerBytes() {
        return header.getBytes(StandardCharsets.UTF_8);
    }
}
