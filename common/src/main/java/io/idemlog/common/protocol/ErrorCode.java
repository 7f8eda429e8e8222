package io.idemlog.common.protocol;

/**
 * Kafka wire error codes used by idemlog: the one error table of the project, server and client. Codes are explicit
 * and looked up through a table, never by ordinal. As in Kafka's Errors.java, what a client does follows from the
 * entry: {@link #retriable} (Kafka's RetriableException) and {@link #refreshesMetadata} (Kafka's
 * InvalidMetadataException: retry after a metadata refresh, the leader may have moved). A test holds both flags and
 * the names to kafka-clients' own table.
 */
public enum ErrorCode {
    UNKNOWN_SERVER_ERROR(-1, false, "The server experienced an unexpected error when processing the request."),
    NONE(0, false, null),
    OFFSET_OUT_OF_RANGE(1, false, "The requested offset is not within the range of offsets maintained by the server."),
    CORRUPT_MESSAGE(2, true, "This message has failed its CRC checksum, exceeds the valid size, has a null key for "
        + "a compacted topic, or is otherwise corrupt."),
    UNKNOWN_TOPIC_OR_PARTITION(3, true, true, "This server does not host this topic-partition."),
    LEADER_NOT_AVAILABLE(5, true, true, "There is no leader for this topic-partition."),
    NOT_LEADER_OR_FOLLOWER(6, true, true, "This server is not the leader for that topic-partition."),
    REQUEST_TIMED_OUT(7, true, "The request timed out."),
    MESSAGE_TOO_LARGE(10, false, "The request included a message larger than the max message size the server will "
        + "accept."),
    NOT_ENOUGH_REPLICAS(19, true, "Messages are rejected since there are fewer in-sync replicas than required."),
    RECORD_LIST_TOO_LARGE(18, false, "The request included message batch larger than the configured segment size."),
    INVALID_TOPIC_EXCEPTION(17, false, "The request attempted to perform an operation on an invalid topic."),
    INVALID_REQUIRED_ACKS(21, false, "Produce request specified an invalid value for required acks."),
    TOPIC_AUTHORIZATION_FAILED(29, false, "Topic authorization failed."),
    CLUSTER_AUTHORIZATION_FAILED(31, false, "Cluster authorization failed."),
    UNSUPPORTED_VERSION(35, false, "The version of API is not supported."),
    TOPIC_ALREADY_EXISTS(36, false, "Topic with this name already exists."),
    INVALID_PARTITIONS(37, false, "Number of partitions is below 1."),
    INVALID_REPLICATION_FACTOR(38, false, "Replication factor is below 1 or larger than the number of available "
        + "brokers."),
    INVALID_REPLICA_ASSIGNMENT(39, false, "Replica assignment is invalid."),
    INVALID_CONFIG(40, false, "Configuration is invalid."),
    POLICY_VIOLATION(44, false, "Request parameters do not satisfy the configured policy."),
    TOPIC_DELETION_DISABLED(73, false, "Topic deletion is disabled."),
    INVALID_REQUEST(42, false, "This most likely occurs because of a request being malformed by the client library "
        + "or the message was sent to an incompatible server."),
    OUT_OF_ORDER_SEQUENCE_NUMBER(45, false, "The server received an out of order sequence number."),
    DUPLICATE_SEQUENCE_NUMBER(46, false, "The server received a duplicate sequence number."),
    INVALID_PRODUCER_EPOCH(47, false, "Producer attempted to produce with an old epoch."),
    KAFKA_STORAGE_ERROR(56, true, true, "Disk error when trying to access log file on the disk."),
    UNKNOWN_PRODUCER_ID(59, false, "This exception is raised by the server if it could not locate the producer "
        + "metadata associated with the producerId in question."),
    FETCH_SESSION_ID_NOT_FOUND(70, true, "The fetch session ID was not found."),
    INVALID_FETCH_SESSION_EPOCH(71, true, "The fetch session epoch is invalid."),
    UNSUPPORTED_COMPRESSION_TYPE(76, false, "The requesting client does not support the compression type of given "
        + "partition."),
    INVALID_RECORD(87, false, "This record has failed the validation on server and hence will be rejected."),
    THROTTLING_QUOTA_EXCEEDED(89, true, "The throttling quota has been exceeded."),
    PRODUCER_FENCED(90, false, "There is a newer producer with the same transactionalId which fences the current "
        + "one."),
    NETWORK_EXCEPTION(13, true, true, "The server disconnected before a response was received."),
    COORDINATOR_LOAD_IN_PROGRESS(14, true, "The coordinator is loading and hence can't process requests."),
    COORDINATOR_NOT_AVAILABLE(15, true, "The coordinator is not available."),
    NOT_COORDINATOR(16, true, "This is not the correct coordinator."),
    NOT_ENOUGH_REPLICAS_AFTER_APPEND(20, true, "Messages are written to the log, but to fewer in-sync replicas than "
        + "required."),
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED(53, false, "Transactional Id authorization failed."),
    FENCED_LEADER_EPOCH(74, true, true, "The leader epoch in the request is older than the epoch on the broker."),
    UNKNOWN_LEADER_EPOCH(75, true, "The leader epoch in the request is newer than the epoch on the broker."),
    OFFSET_METADATA_TOO_LARGE(12, false, "The metadata field of the offset request was too large."),
    ILLEGAL_GENERATION(22, false, "Specified group generation id is not valid."),
    INCONSISTENT_GROUP_PROTOCOL(23, false, "The group member's supported protocols are incompatible with those of "
        + "existing members or first group member tried to join with empty protocol type or empty protocol list."),
    INVALID_GROUP_ID(24, false, "The configured groupId is invalid."),
    UNKNOWN_MEMBER_ID(25, false, "The coordinator is not aware of this member."),
    INVALID_SESSION_TIMEOUT(26, false, "The session timeout is not within the range allowed by the broker (as "
        + "configured by group.min.session.timeout.ms and group.max.session.timeout.ms)."),
    REBALANCE_IN_PROGRESS(27, false, "The group is rebalancing, so a rejoin is needed."),
    INVALID_COMMIT_OFFSET_SIZE(28, false, "The committing offset data size is not valid."),
    GROUP_AUTHORIZATION_FAILED(30, false, "Group authorization failed."),
    NON_EMPTY_GROUP(68, false, "The group is not empty."),
    GROUP_ID_NOT_FOUND(69, false, "The group id does not exist."),
    MEMBER_ID_REQUIRED(79, false, "The group member needs to have a valid member id before actually entering a "
        + "consumer group."),
    GROUP_MAX_SIZE_REACHED(81, false, "The consumer group has reached its max size."),
    FENCED_INSTANCE_ID(82, false, "The broker rejected this static consumer since another consumer with the same "
        + "group.instance.id has registered with a different member.id."),
    GROUP_SUBSCRIBED_TO_TOPIC(86, false, "The consumer group is actively subscribed to the topic"),
    UNSTABLE_OFFSET_COMMIT(88, true, "There are unstable offsets that need to be cleared."),
    UNKNOWN_TOPIC_ID(100, true, true, "This server does not host this topic ID.");

    private static final ErrorCode[] BY_CODE = new ErrorCode[128];

    static {
        for (ErrorCode e : values()) {
            if (e.code >= 0) {
                BY_CODE[e.code] = e;
            }
        }
    }

    public final short code;
    /** A later attempt of the same request may succeed (Kafka's RetriableException). */
    public final boolean retriable;
    /** Retry after refreshing metadata: the partition may have moved (Kafka's InvalidMetadataException). */
    public final boolean refreshesMetadata;
    public final String message;

    ErrorCode(int code, boolean retriable, String message) {
        this(code, retriable, false, message);
    }

    ErrorCode(int code, boolean retriable, boolean refreshesMetadata, String message) {
        this.code = (short) code;
        this.retriable = retriable;
        this.refreshesMetadata = refreshesMetadata;
        this.message = message;
    }

    /** Whether idemlog's table has an entry for this wire code (unknown codes are UNKNOWN_SERVER_ERROR). */
    public static boolean isKnown(short code) {
        return code == UNKNOWN_SERVER_ERROR.code || forCode(code) != UNKNOWN_SERVER_ERROR;
    }

    /** The error with this wire code; codes idemlog does not know map to {@link #UNKNOWN_SERVER_ERROR}. */
    public static ErrorCode forCode(short code) {
        if (code >= 0 && code < BY_CODE.length) {
            ErrorCode e = BY_CODE[code];
            if (e != null) {
                return e;
            }
        }
        return UNKNOWN_SERVER_ERROR;
    }
}
