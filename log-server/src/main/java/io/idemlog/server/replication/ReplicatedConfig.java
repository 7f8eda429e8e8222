package io.idemlog.server.replication;

import io.idemlog.server.log.DedupConfig;
import io.idemlog.server.log.LogConfig;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The topic settings a replicated partition's apply decides with (docs/REPLICATION.md 4.8): segment.bytes and
 * segment.ms (where segments roll: the replicas' files must be byte-identical), max.message.bytes,
 * message.timestamp.type, and the de-duplication window (dedup.header, dedup.window.ms, dedup.max.keys). They are an
 * entry of the partition's Raft group ({@link PartitionEntry#CONFIG}), proposed by the leader with the values
 * resolved (topic config over the leader's broker defaults), so every replica switches at the same point of the log
 * whatever its own server settings, and a snapshot records the ones in force (its manifest's {@code config.} lines).
 *
 * <p>{@code version} is the metadata group's applied index on the proposing leader when it read the topic's configs
 * (a lower bound of the image's): apply ignores an entry older than the one in force, so a leader whose metadata is
 * still catching up (just restarted) cannot bring back settings a newer entry replaced; -1 = unversioned.
 *
 * <p>Text form: one {@code key=value} line per setting, keys sorted, values URL-encoded (a header name may hold any
 * character). Decoding refuses a missing or malformed setting: an entry that cannot be applied is refused the same
 * way on every replica.
 */
record ReplicatedConfig(long version, long segmentBytes, long segmentMs, int maxBatchBytes, boolean logAppendTime,
                        DedupConfig dedup) {
    static final String VERSION = "version";
    static final String SEGMENT_BYTES = "segment.bytes";
    static final String SEGMENT_MS = "segment.ms";
    static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    static final String TIMESTAMP_TYPE = "message.timestamp.type";
    static final String DEDUP_HEADER = "dedup.header";
    static final String DEDUP_WINDOW_MS = "dedup.window.ms";
    static final String DEDUP_MAX_KEYS = "dedup.max.keys";

    ReplicatedConfig {
        java.util.Objects.requireNonNull(dedup, "dedup");
        if (segmentBytes <= 0 || segmentMs <= 0 || maxBatchBytes <= 0) {
            throw new IllegalArgumentException("segment.bytes, segment.ms and max.message.bytes must be > 0: "
                + segmentBytes + ", " + segmentMs + ", " + maxBatchBytes);
        }
    }

    /** The replicated settings of a resolved storage configuration, read at metadata index {@code version}. */
    static ReplicatedConfig of(LogConfig c, long version) {
        return new ReplicatedConfig(version, c.segmentBytes(), c.segmentMs(), c.maxBatchBytes(), c.logAppendTime(),
            c.dedup());
    }

    /** Whether {@code other} holds the same settings (whatever its version). */
    boolean sameSettings(ReplicatedConfig other) {
        return other != null && segmentBytes == other.segmentBytes && segmentMs == other.segmentMs
            && maxBatchBytes == other.maxBatchBytes && logAppendTime == other.logAppendTime
            && dedup.equals(other.dedup);
    }

    /** {@code base} (this node's settings for the rest: retention, index interval, expiry, ...) with these. */
    LogConfig applyTo(LogConfig base) {
        return new LogConfig(segmentBytes, segmentMs, base.retentionMs(), base.retentionBytes(),
            base.retentionCheckIntervalMs(), base.indexIntervalBytes(), maxBatchBytes, base.producerIdExpirationMs(),
            base.producerIdExpirationCheckIntervalMs(), base.maxProducersPerPartition(), base.fileDeleteDelayMs(),
            base.preallocate(), dedup, logAppendTime);
    }

    /** By key, sorted (the manifest writes them as {@code config.<key>=<value>}). */
    Map<String, String> toMap() {
        Map<String, String> m = new TreeMap<>();
        m.put(VERSION, Long.toString(version));
        m.put(SEGMENT_BYTES, Long.toString(segmentBytes));
        m.put(SEGMENT_MS, Long.toString(segmentMs));
        m.put(MAX_MESSAGE_BYTES, Integer.toString(maxBatchBytes));
        m.put(TIMESTAMP_TYPE, logAppendTime ? "LogAppendTime" : "CreateTime");
        m.put(DEDUP_HEADER, dedup.header());
        m.put(DEDUP_WINDOW_MS, Long.toString(dedup.windowMs()));
        m.put(DEDUP_MAX_KEYS, Integer.toString(dedup.maxKeys()));
        return m;
    }

    /**
     * @throws IllegalArgumentException when a setting is missing or malformed (unknown keys are ignored: a newer
     *                                  leader may replicate more)
     */
    static ReplicatedConfig fromMap(Map<String, String> m) {
        String type = required(m, TIMESTAMP_TYPE);
        if (!type.equals("CreateTime") && !type.equals("LogAppendTime")) {
            throw new IllegalArgumentException(TIMESTAMP_TYPE + " " + type);
        }
        try {
            String version = m.get(VERSION);
            return new ReplicatedConfig(version == null ? -1L : Long.parseLong(version),
                Long.parseLong(required(m, SEGMENT_BYTES)),
                Long.parseLong(required(m, SEGMENT_MS)), Integer.parseInt(required(m, MAX_MESSAGE_BYTES)),
                type.equals("LogAppendTime"), new DedupConfig(required(m, DEDUP_HEADER),
                Long.parseLong(required(m, DEDUP_WINDOW_MS)), Integer.parseInt(required(m, DEDUP_MAX_KEYS))));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: " + e.getMessage(), e);
        }
    }

    private static String required(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return v;
    }

    /** The entry's text: {@code key=value} lines, sorted, values URL-encoded. */
    String encode() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : toMap().entrySet()) {
            b.append(e.getKey()).append('=').append(encodeValue(e.getValue())).append('\n');
        }
        return b.toString();
    }

    /** @throws IllegalArgumentException when the text is not a complete encoding */
    static ReplicatedConfig decode(String text) {
        Map<String, String> m = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("bad line '" + line + "'");
            }
            m.put(line.substring(0, eq), decodeValue(line.substring(eq + 1)));
        }
        return fromMap(m);
    }

    static String encodeValue(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    static String decodeValue(String v) {
        return URLDecoder.decode(v, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return toMap().toString();
    }
}
