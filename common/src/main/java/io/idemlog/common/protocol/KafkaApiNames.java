package io.idemlog.common.protocol;

/**
 * The name of every api key Apache Kafka defines (4.1: keys 0-92), whether idemlog serves it or not: what a log line
 * says about a request for an API idemlog does not implement ("FIND_COORDINATOR (10) v4 is not supported by
 * idemlog"). Which APIs idemlog implements is {@link ApiKey}'s business, not this table's; a test holds the table to
 * kafka-clients' own list.
 */
public final class KafkaApiNames {
    /** Index = api key id. */
    private static final String[] NAMES = {
        "PRODUCE", "FETCH", "LIST_OFFSETS", "METADATA", "LEADER_AND_ISR", "STOP_REPLICA", "UPDATE_METADATA",
        "CONTROLLED_SHUTDOWN", "OFFSET_COMMIT", "OFFSET_FETCH", "FIND_COORDINATOR", "JOIN_GROUP", "HEARTBEAT",
        "LEAVE_GROUP", "SYNC_GROUP", "DESCRIBE_GROUPS", "LIST_GROUPS", "SASL_HANDSHAKE", "API_VERSIONS",
        "CREATE_TOPICS", "DELETE_TOPICS", "DELETE_RECORDS", "INIT_PRODUCER_ID", "OFFSET_FOR_LEADER_EPOCH",
        "ADD_PARTITIONS_TO_TXN", "ADD_OFFSETS_TO_TXN", "END_TXN", "WRITE_TXN_MARKERS", "TXN_OFFSET_COMMIT",
        "DESCRIBE_ACLS", "CREATE_ACLS", "DELETE_ACLS", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "ALTER_REPLICA_LOG_DIRS",
        "DESCRIBE_LOG_DIRS", "SASL_AUTHENTICATE", "CREATE_PARTITIONS", "CREATE_DELEGATION_TOKEN",
        "RENEW_DELEGATION_TOKEN", "EXPIRE_DELEGATION_TOKEN", "DESCRIBE_DELEGATION_TOKEN", "DELETE_GROUPS",
        "ELECT_LEADERS", "INCREMENTAL_ALTER_CONFIGS", "ALTER_PARTITION_REASSIGNMENTS", "LIST_PARTITION_REASSIGNMENTS",
        "OFFSET_DELETE", "DESCRIBE_CLIENT_QUOTAS", "ALTER_CLIENT_QUOTAS", "DESCRIBE_USER_SCRAM_CREDENTIALS",
        "ALTER_USER_SCRAM_CREDENTIALS", "VOTE", "BEGIN_QUORUM_EPOCH", "END_QUORUM_EPOCH", "DESCRIBE_QUORUM",
        "ALTER_PARTITION", "UPDATE_FEATURES", "ENVELOPE", "FETCH_SNAPSHOT", "DESCRIBE_CLUSTER", "DESCRIBE_PRODUCERS",
        "BROKER_REGISTRATION", "BROKER_HEARTBEAT", "UNREGISTER_BROKER", "DESCRIBE_TRANSACTIONS", "LIST_TRANSACTIONS",
        "ALLOCATE_PRODUCER_IDS", "CONSUMER_GROUP_HEARTBEAT", "CONSUMER_GROUP_DESCRIBE", "CONTROLLER_REGISTRATION",
        "GET_TELEMETRY_SUBSCRIPTIONS", "PUSH_TELEMETRY", "ASSIGN_REPLICAS_TO_DIRS", "LIST_CONFIG_RESOURCES",
        "DESCRIBE_TOPIC_PARTITIONS", "SHARE_GROUP_HEARTBEAT", "SHARE_GROUP_DESCRIBE", "SHARE_FETCH",
        "SHARE_ACKNOWLEDGE", "ADD_RAFT_VOTER", "REMOVE_RAFT_VOTER", "UPDATE_RAFT_VOTER",
        "INITIALIZE_SHARE_GROUP_STATE", "READ_SHARE_GROUP_STATE", "WRITE_SHARE_GROUP_STATE",
        "DELETE_SHARE_GROUP_STATE", "READ_SHARE_GROUP_STATE_SUMMARY", "STREAMS_GROUP_HEARTBEAT",
        "STREAMS_GROUP_DESCRIBE", "DESCRIBE_SHARE_GROUP_OFFSETS", "ALTER_SHARE_GROUP_OFFSETS",
        "DELETE_SHARE_GROUP_OFFSETS"
    };

    private KafkaApiNames() {
    }

    /** Kafka's name for the api key, or null when Kafka (as of 4.1) defines no such key. */
    public static String name(int apiKey) {
        return apiKey >= 0 && apiKey < NAMES.length ? NAMES[apiKey] : null;
    }

    /** Api keys Kafka defines (one above the largest). */
    public static int count() {
        return NAMES.length;
    }

    /**
     * How a log line names a request's api key and version: "FIND_COORDINATOR (10) v4" for a key Kafka defines,
     * "unknown api key 200 v0" otherwise.
     */
    public static String describe(int apiKey, int version) {
        String name = name(apiKey);
        return (name != null ? name + " (" + apiKey + ")" : "unknown api key " + apiKey) + " v" + version;
    }
}
