package io.idemlog.common.protocol;

/**
 * The Kafka APIs idemlog speaks, with the version range it implements and the first flexible version of each.
 *
 * <p>The ranges cover both version sets proven end to end with kafka-clients 3.9/4.x and librdkafka (see
 * docs/PROTOCOL.md): set A (non-flexible: ApiVersions 2, Metadata 8, InitProducerId 1, Produce 8, ListOffsets 5,
 * Fetch 11) and set B (first flexible: 3, 9, 2, 9, 6, 12), plus the older versions librdkafka falls back to.
 * Produce and Fetch stop below 13 on purpose: v13 replaces topic names by topic ids, which idemlog does not have.
 */
public enum ApiKey {
    PRODUCE(0, 3, 9, 9),
    FETCH(1, 4, 12, 12),
    LIST_OFFSETS(2, 1, 10, 6),
    METADATA(3, 0, 12, 9),
    API_VERSIONS(18, 0, 3, 3),
    INIT_PRODUCER_ID(22, 0, 2, 2),
    // the consumer-group APIs (issue 9), appended in GroupApis.ALL order (fuzz seeds index values()); ranges as
    // GroupApis, see docs/PROTOCOL.md
    OFFSET_COMMIT(8, 0, 9, 8),
    OFFSET_FETCH(9, 0, 9, 6),
    FIND_COORDINATOR(10, 0, 6, 3),
    JOIN_GROUP(11, 0, 9, 6),
    HEARTBEAT(12, 0, 4, 4),
    LEAVE_GROUP(13, 0, 5, 4),
    SYNC_GROUP(14, 0, 5, 4),
    DESCRIBE_GROUPS(15, 0, 6, 5),
    LIST_GROUPS(16, 0, 5, 3),
    DELETE_GROUPS(42, 0, 2, 2),
    OFFSET_DELETE(47, 0, 0, Short.MAX_VALUE),
    // Topic admin (issue 10), appended after the group APIs (fuzz seeds index values()): the versions that
    // kafka-clients 3.9/4.x and librdkafka 2.x send.
    CREATE_TOPICS(19, 2, 7, 5),
    DELETE_TOPICS(20, 1, 6, 4),
    DESCRIBE_CONFIGS(32, 1, 4, 4),
    CREATE_PARTITIONS(37, 0, 3, 2),
    ALTER_CONFIGS(33, 0, 2, 2),
    INCREMENTAL_ALTER_CONFIGS(44, 0, 1, 1),
    DESCRIBE_CLUSTER(60, 0, 2, 0),
    DESCRIBE_PRODUCERS(61, 0, 0, 0),
    // log admin (issue 10): DeleteRecords moves a partition's log start offset; DescribeLogDirs the data directory
    DELETE_RECORDS(21, 0, 2, 2),
    DESCRIBE_LOG_DIRS(35, 0, 4, 2),
    // leader epochs (issue 13, KIP-320): the end offset of a leader epoch, which consumers ask to validate positions
    OFFSET_FOR_LEADER_EPOCH(23, 0, 4, 4);

    /**
     * One above the largest api key id Kafka defines or may soon define (4.x stops near 92): tables indexed by api
     * key id (handlers, per-API counters) have this many entries, whatever subset idemlog implements.
     */
    public static final int ID_LIMIT = 128;

    private static final ApiKey[] BY_ID = new ApiKey[ID_LIMIT];

    static {
        for (ApiKey key : values()) {
            BY_ID[key.id] = key;
        }
    }

    public final short id;
    public final short minVersion;
    public final short maxVersion;
    public final short firstFlexibleVersion;

    ApiKey(int id, int minVersion, int maxVersion, int firstFlexibleVersion) {
        this.id = (short) id;
        this.minVersion = (short) minVersion;
        this.maxVersion = (short) maxVersion;
        this.firstFlexibleVersion = (short) firstFlexibleVersion;
    }

    /** The API with this wire id, or null when idemlog does not implement it. */
    public static ApiKey forId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    public boolean isVersionSupported(short version) {
        return version >= minVersion && version <= maxVersion;
    }

    /** Whether this version of the API uses the compact encodings and tagged fields (KIP-482). */
    public boolean isFlexible(short version) {
        return version >= firstFlexibleVersion;
    }

    /**
     * Request header version: 2 for flexible versions, else 1. Also defined for versions newer than
     * {@link #maxVersion}, because ApiVersions must parse a too-new request's header to answer it (KIP-511).
     */
    public short requestHeaderVersion(short version) {
        return (short) (isFlexible(version) ? 2 : 1);
    }

    /** Response header version: 1 for flexible versions, else 0; ApiVersions always answers with header v0. */
    public short responseHeaderVersion(short version) {
        if (this == API_VERSIONS) {
            return 0;
        }
        return (short) (isFlexible(version) ? 1 : 0);
    }
}
