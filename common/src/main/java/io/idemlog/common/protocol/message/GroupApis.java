package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireReader;

import java.util.List;

/**
 * The consumer-group APIs (issue 9) whose codecs exist, with the version ranges they implement, kept apart from
 * {@link ApiKey} on purpose: ApiKey's constants are what ApiVersions advertises and every constant needs a
 * handler, so a constant is added there only together with its handler. {@link Messages} dispatches an ApiKey it
 * has no case for to this table by id, so adding the constant (same id and range) is all the wiring needed.
 *
 * <p>The ranges are the versions kafka-clients 3.9/4.1 and librdkafka 2.x send, up to the schema's last stable
 * version: OffsetCommit and OffsetFetch stop at 9 (v10 replaces topic names by topic ids and is marked unstable in
 * kafka-clients 4.1, which therefore never sends it).
 */
public final class GroupApis {
    /** A body decoder: the static {@code read(WireReader, short)} of a message class. */
    @FunctionalInterface
    public interface Reader {
        Message read(WireReader reader, short version);
    }

    /** One API: wire id, implemented versions, first flexible version, and the codecs of both directions. */
    public record Api(String name, short id, short minVersion, short maxVersion, short firstFlexibleVersion,
                      Reader request, Reader response) {
        Api(String name, int id, int min, int max, int firstFlexible, Reader request, Reader response) {
            this(name, (short) id, (short) min, (short) max, (short) firstFlexible, request, response);
        }

        /** The ApiKey constant with this id, or null while ApiKey has none (the handler is not there yet). */
        public ApiKey apiKey() {
            return ApiKey.forId(id);
        }

        public boolean isFlexible(short version) {
            return version >= firstFlexibleVersion;
        }

        /** Request header version: 2 for flexible versions, else 1 (as {@link ApiKey#requestHeaderVersion}). */
        public short requestHeaderVersion(short version) {
            return (short) (isFlexible(version) ? 2 : 1);
        }

        /** Response header version: 1 for flexible versions, else 0. */
        public short responseHeaderVersion(short version) {
            return (short) (isFlexible(version) ? 1 : 0);
        }
    }

    public static final Api OFFSET_COMMIT = new Api("OFFSET_COMMIT", 8, 0, 9, 8,
        OffsetCommitRequest::read, OffsetCommitResponse::read);
    public static final Api OFFSET_FETCH = new Api("OFFSET_FETCH", 9, 0, 9, 6,
        OffsetFetchRequest::read, OffsetFetchResponse::read);
    public static final Api FIND_COORDINATOR = new Api("FIND_COORDINATOR", 10, 0, 6, 3,
        FindCoordinatorRequest::read, FindCoordinatorResponse::read);
    public static final Api JOIN_GROUP = new Api("JOIN_GROUP", 11, 0, 9, 6,
        JoinGroupRequest::read, JoinGroupResponse::read);
    public static final Api HEARTBEAT = new Api("HEARTBEAT", 12, 0, 4, 4,
        HeartbeatRequest::read, HeartbeatResponse::read);
    public static final Api LEAVE_GROUP = new Api("LEAVE_GROUP", 13, 0, 5, 4,
        LeaveGroupRequest::read, LeaveGroupResponse::read);
    public static final Api SYNC_GROUP = new Api("SYNC_GROUP", 14, 0, 5, 4,
        SyncGroupRequest::read, SyncGroupResponse::read);

    public static final Api DESCRIBE_GROUPS = new Api("DESCRIBE_GROUPS", 15, 0, 6, 5,
        DescribeGroupsRequest::read, DescribeGroupsResponse::read);
    public static final Api LIST_GROUPS = new Api("LIST_GROUPS", 16, 0, 5, 3,
        ListGroupsRequest::read, ListGroupsResponse::read);
    public static final Api DELETE_GROUPS = new Api("DELETE_GROUPS", 42, 0, 2, 2,
        DeleteGroupsRequest::read, DeleteGroupsResponse::read);
    /** Never flexible: the first flexible version is past the last one. */
    public static final Api OFFSET_DELETE = new Api("OFFSET_DELETE", 47, 0, 0, Short.MAX_VALUE,
        OffsetDeleteRequest::read, OffsetDeleteResponse::read);

    /** Every API of this table, in api key order. */
    public static final List<Api> ALL = List.of(OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP,
        HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS, DELETE_GROUPS, OFFSET_DELETE);

    private GroupApis() {
    }

    /** The API with this wire id, or null. */
    public static Api forId(int id) {
        for (Api api : ALL) {
            if (api.id == id) {
                return api;
            }
        }
        return null;
    }

    static Api require(ApiKey key) {
        Api api = forId(key.id);
        if (api == null) {
            throw new IllegalArgumentException("no codec for " + key);
        }
        return api;
    }
}
