package io.idemlog.common.record;

import java.util.Locale;

/**
 * The compression codecs of RecordBatch v2, by the id in attributes bits 0-2 and by the name Kafka's
 * {@code compression.type} uses. Ids 5-7 are not defined by Kafka.
 */
public enum Compression {
    NONE(0, "none"),
    GZIP(1, "gzip"),
    SNAPPY(2, "snappy"),
    LZ4(3, "lz4"),
    ZSTD(4, "zstd");

    private static final Compression[] BY_ID = values();

    public final int id;
    public final String kafkaName;

    Compression(int id, String kafkaName) {
        this.id = id;
        this.kafkaName = kafkaName;
    }

    /** The codec with this attributes id, or null for 5-7 (and anything outside 0-7). */
    public static Compression forId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** The codec named {@code name} as in Kafka's compression.type (case-insensitive), or null. */
    public static Compression forName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Compression c : BY_ID) {
            if (c.kafkaName.equals(n)) {
                return c;
            }
        }
        return null;
    }
}
