package io.idemlog.server.group;

/**
 * A committed offset as stored: what OffsetCommit sent, with the time of the commit.
 *
 * @param offset          the committed position (the next offset the group will read)
 * @param leaderEpoch     the leader epoch the client saw at that offset, -1 when it sent none
 * @param metadata        the client's metadata string, kept as sent (never null: a null is stored as "")
 * @param commitTimestamp when the coordinator accepted the commit (server clock), or the v1 commit_timestamp
 * @param expireTimestamp an explicit expiry from a v2-v4 retention_time_ms, or -1 (the group's retention applies)
 */
public record OffsetValue(long offset, int leaderEpoch, String metadata, long commitTimestamp, long expireTimestamp) {
}
