package io.idemlog.common.protocol.message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Populated messages of every {@link GroupApis} API, for a given version: every field the version carries holds a
 * non-default value (nullable ones a value, and a second partition/member with null where the schema allows). Used
 * by the round-trip test and to write the fuzz seeds.
 */
public final class GroupSamples {
    static final byte[] META = "subscription:orders".getBytes(StandardCharsets.UTF_8);

    private GroupSamples() {
    }

    public static Message request(GroupApis.Api api, short v) {
        return switch (api.name()) {
            case "FIND_COORDINATOR" -> {
                FindCoordinatorRequest m = new FindCoordinatorRequest();
                if (v <= 3) {
                    m.key = "group-1";
                } else {
                    m.coordinatorKeys.addAll(List.of("group-1", "group-2"));
                }
                m.keyType = v >= 1 ? FindCoordinatorRequest.KEY_TYPE_TRANSACTION : 0;
                yield m;
            }
            case "JOIN_GROUP" -> {
                JoinGroupRequest m = new JoinGroupRequest();
                m.groupId = "g1";
                m.sessionTimeoutMs = 45_000;
                m.rebalanceTimeoutMs = v >= 1 ? 300_000 : -1;
                m.memberId = "consumer-1-abc";
                m.groupInstanceId = v >= 5 ? "static-1" : null;
                m.protocolType = "consumer";
                m.protocols.add(new JoinGroupRequest.Protocol("cooperative-sticky", META));
                m.protocols.add(new JoinGroupRequest.Protocol("range", new byte[0]));
                m.reason = v >= 8 ? "rejoin" : null;
                yield m;
            }
            case "SYNC_GROUP" -> {
                SyncGroupRequest m = new SyncGroupRequest();
                m.groupId = "g1";
                m.generationId = 3;
                m.memberId = "m-1";
                m.groupInstanceId = v >= 3 ? "static-1" : null;
                if (v >= 5) {
                    m.protocolType = "consumer";
                    m.protocolName = "range";
                }
                m.assignments.add(new SyncGroupRequest.Assignment("m-1", new byte[] {1, 2, 3}));
                m.assignments.add(new SyncGroupRequest.Assignment("m-2", new byte[0]));
                yield m;
            }
            case "HEARTBEAT" -> {
                HeartbeatRequest m = new HeartbeatRequest();
                m.groupId = "g1";
                m.generationId = 12;
                m.memberId = "m-1";
                m.groupInstanceId = v >= 3 ? "static-1" : null;
                yield m;
            }
            case "LEAVE_GROUP" -> {
                LeaveGroupRequest m = new LeaveGroupRequest();
                m.groupId = "g1";
                if (v <= 2) {
                    m.memberId = "m-1";
                } else {
                    m.members.add(new LeaveGroupRequest.Member("m-1", null));
                    LeaveGroupRequest.Member b = new LeaveGroupRequest.Member("", "static-2");
                    b.reason = v >= 5 ? "bye" : null;
                    m.members.add(b);
                }
                yield m;
            }
            case "OFFSET_COMMIT" -> {
                OffsetCommitRequest m = new OffsetCommitRequest();
                m.groupId = "g1";
                if (v >= 1) {
                    m.generationIdOrMemberEpoch = 5;
                    m.memberId = "m-1";
                }
                m.groupInstanceId = v >= 7 ? "static-1" : null;
                m.retentionTimeMs = v >= 2 && v <= 4 ? 86_400_000L : -1L;
                OffsetCommitRequest.Topic t = new OffsetCommitRequest.Topic("orders");
                OffsetCommitRequest.Partition p0 = new OffsetCommitRequest.Partition(0, 1234L, v >= 6 ? 3 : -1, "m");
                p0.commitTimestamp = v == 1 ? 1_700_000_000_000L : -1L;
                t.partitions.add(p0);
                t.partitions.add(new OffsetCommitRequest.Partition(7, 55L, -1, null));
                m.topics.add(t);
                yield m;
            }
            case "OFFSET_FETCH" -> {
                OffsetFetchRequest m = new OffsetFetchRequest();
                List<OffsetFetchRequest.Topic> topics = new ArrayList<>();
                topics.add(new OffsetFetchRequest.Topic("orders", 0, 1, 7));
                if (v <= 7) {
                    m.groupId = "g1";
                    m.topics = topics;
                } else {
                    m.topics = null;
                    OffsetFetchRequest.Group g = new OffsetFetchRequest.Group("g1", topics);
                    if (v >= 9) {
                        g.memberId = "m-1";
                        g.memberEpoch = 4;
                    }
                    m.groups.add(g);
                    m.groups.add(new OffsetFetchRequest.Group("g2", null));
                }
                m.requireStable = v >= 7;
                yield m;
            }
            case "LIST_GROUPS" -> {
                ListGroupsRequest m = new ListGroupsRequest();
                if (v >= 4) {
                    m.statesFilter.addAll(List.of("Stable", "Empty"));
                }
                if (v >= 5) {
                    m.typesFilter.add("classic");
                }
                yield m;
            }
            case "DESCRIBE_GROUPS" -> {
                DescribeGroupsRequest m = new DescribeGroupsRequest();
                m.groups.addAll(List.of("g1", "g2"));
                m.includeAuthorizedOperations = v >= 3;
                yield m;
            }
            case "DELETE_GROUPS" -> {
                DeleteGroupsRequest m = new DeleteGroupsRequest();
                m.groupsNames.addAll(List.of("g1", "g2"));
                yield m;
            }
            case "OFFSET_DELETE" -> {
                OffsetDeleteRequest m = new OffsetDeleteRequest();
                m.groupId = "g1";
                m.topics.add(new OffsetDeleteRequest.Topic("orders", 0, 3));
                m.topics.add(new OffsetDeleteRequest.Topic("audit"));
                yield m;
            }
            default -> throw new IllegalArgumentException(api.name());
        };
    }

    public static Message response(GroupApis.Api api, short v) {
        return switch (api.name()) {
            case "FIND_COORDINATOR" -> {
                FindCoordinatorResponse m = new FindCoordinatorResponse();
                m.throttleTimeMs = v >= 1 ? 9 : 0;
                m.answer(v, "group-1", 3, "127.0.0.1", 9092, (short) 15, v >= 1 ? "not available" : null);
                if (v >= 4) {
                    m.answer(v, "group-2", -1, "", -1, (short) 0, null);
                }
                yield m;
            }
            case "JOIN_GROUP" -> {
                JoinGroupResponse m = new JoinGroupResponse();
                m.throttleTimeMs = v >= 2 ? 4 : 0;
                m.errorCode = 79;
                m.generationId = 7;
                m.protocolType = v >= 7 ? "consumer" : null;
                m.protocolName = "range";
                m.leader = "m-1";
                m.skipAssignment = v >= 9;
                m.memberId = "m-2";
                m.members.add(new JoinGroupResponse.Member("m-1", v >= 5 ? "static-1" : null, META));
                m.members.add(new JoinGroupResponse.Member("m-2", null, new byte[] {9}));
                yield m;
            }
            case "SYNC_GROUP" -> {
                SyncGroupResponse m = new SyncGroupResponse();
                m.throttleTimeMs = v >= 1 ? 2 : 0;
                m.errorCode = 27;
                if (v >= 5) {
                    m.protocolType = "consumer";
                    m.protocolName = "range";
                }
                m.assignment = new byte[] {0, 1, 2, 3};
                yield m;
            }
            case "HEARTBEAT" -> {
                HeartbeatResponse m = new HeartbeatResponse((short) 27);
                m.throttleTimeMs = v >= 1 ? 8 : 0;
                yield m;
            }
            case "LEAVE_GROUP" -> {
                LeaveGroupResponse m = new LeaveGroupResponse();
                m.throttleTimeMs = v >= 1 ? 1 : 0;
                m.errorCode = 0;
                if (v >= 3) {
                    m.members.add(new LeaveGroupResponse.Member("m-1", null, (short) 0));
                    m.members.add(new LeaveGroupResponse.Member("", "static-2", (short) 25));
                }
                yield m;
            }
            case "OFFSET_COMMIT" -> {
                OffsetCommitResponse m = new OffsetCommitResponse();
                m.throttleTimeMs = v >= 3 ? 6 : 0;
                OffsetCommitResponse.Topic t = new OffsetCommitResponse.Topic("orders");
                t.partitions.add(new OffsetCommitResponse.Partition(0, (short) 0));
                t.partitions.add(new OffsetCommitResponse.Partition(7, (short) 22));
                m.topics.add(t);
                yield m;
            }
            case "OFFSET_FETCH" -> {
                OffsetFetchResponse m = new OffsetFetchResponse();
                m.throttleTimeMs = v >= 3 ? 3 : 0;
                OffsetFetchResponse.Group g = new OffsetFetchResponse.Group("g1");
                OffsetFetchResponse.Topic t = new OffsetFetchResponse.Topic("orders");
                t.partitions.add(new OffsetFetchResponse.Partition(0, 99L, v >= 5 ? 2 : -1, "meta", (short) 0));
                t.partitions.add(new OffsetFetchResponse.Partition(1, -1L, -1, null, (short) 3));
                g.topics.add(t);
                g.errorCode = (short) (v >= 2 ? 14 : 0);
                m.addGroup(v, g);
                if (v >= 8) {
                    OffsetFetchResponse.Group g2 = new OffsetFetchResponse.Group("g2");
                    g2.errorCode = 16;
                    m.addGroup(v, g2);
                }
                yield m;
            }
            case "LIST_GROUPS" -> {
                ListGroupsResponse m = new ListGroupsResponse();
                m.throttleTimeMs = v >= 1 ? 5 : 0;
                m.errorCode = 0;
                m.groups.add(new ListGroupsResponse.Group("g1", "consumer", v >= 4 ? "Stable" : "",
                    v >= 5 ? "classic" : ""));
                m.groups.add(new ListGroupsResponse.Group("g2", "", v >= 4 ? "Empty" : "", v >= 5 ? "classic" : ""));
                yield m;
            }
            case "DESCRIBE_GROUPS" -> {
                DescribeGroupsResponse m = new DescribeGroupsResponse();
                m.throttleTimeMs = v >= 1 ? 5 : 0;
                DescribeGroupsResponse.Group g = new DescribeGroupsResponse.Group();
                g.groupId = "g1";
                g.groupState = "Stable";
                g.protocolType = "consumer";
                g.protocolData = "range";
                DescribeGroupsResponse.Member mm = new DescribeGroupsResponse.Member();
                mm.memberId = "m-1";
                mm.groupInstanceId = v >= 4 ? "static-1" : null;
                mm.clientId = "consumer-g1-1";
                mm.clientHost = "/127.0.0.1";
                mm.memberMetadata = META;
                mm.memberAssignment = new byte[] {0, 1};
                g.members.add(mm);
                g.authorizedOperations = v >= 3 ? 0x0F00 : DescribeGroupsResponse.AUTHORIZED_OPERATIONS_OMITTED;
                m.groups.add(g);
                DescribeGroupsResponse.Group dead = new DescribeGroupsResponse.Group();
                dead.groupId = "g2";
                dead.groupState = "Dead";
                dead.errorCode = (short) (v >= 6 ? 69 : 0);
                dead.errorMessage = v >= 6 ? "group g2 not found" : null;
                m.groups.add(dead);
                yield m;
            }
            case "DELETE_GROUPS" -> {
                DeleteGroupsResponse m = new DeleteGroupsResponse();
                m.throttleTimeMs = 5;
                m.results.add(new DeleteGroupsResponse.Result("g1", (short) 0));
                m.results.add(new DeleteGroupsResponse.Result("g2", (short) 68));
                yield m;
            }
            case "OFFSET_DELETE" -> {
                OffsetDeleteResponse m = new OffsetDeleteResponse();
                m.errorCode = 0;
                m.throttleTimeMs = 5;
                OffsetDeleteResponse.Topic t = new OffsetDeleteResponse.Topic("orders");
                t.partitions.add(new OffsetDeleteResponse.Partition(0, (short) 0));
                t.partitions.add(new OffsetDeleteResponse.Partition(3, (short) 86));
                m.topics.add(t);
                yield m;
            }
            default -> throw new IllegalArgumentException(api.name());
        };
    }
}
