package io.idemlog.testkit;

import java.nio.charset.StandardCharsets;

/**
 * One record as read back from a partition's log.
 *
 * @param partition the partition it was read from
 * @param offset    its offset in that partition
 * @param timestamp its timestamp (CreateTime or LogAppendTime, as stored)
 * @param key       its key bytes, or null
 * @param value     its value bytes, or null
 */
public record LoggedRecord(int partition, long offset, long timestamp, byte[] key, byte[] value) {
    @Override
    public boolean equals(Object o) {
        return o instanceof LoggedRecord r && r.partition == partition && r.offset == offset
            && r.timestamp == timestamp && java.util.Arrays.equals(r.key, key)
            && java.util.Arrays.equals(r.value, value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * partition + Long.hashCode(offset)) + java.util.Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "LoggedRecord(p" + partition + "@" + offset + ", value="
            + (value == null ? "null" : new String(value, 0, Math.min(value.length, 48), StandardCharsets.US_ASCII))
            + ")";
    }
}
