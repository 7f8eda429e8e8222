package io.idemlog.common.protocol.message;

import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.idemlog.common.protocol.message.CodecOracle.check;
import static io.idemlog.common.protocol.message.CodecOracle.checkOurs;
import static io.idemlog.common.protocol.message.CodecOracle.ours;

/**
 * Golden frames for the consumer-group codecs (issue 9): for every version of {@link GroupApis} that kafka-clients
 * 4.1 also implements, a populated message serialised by kafka-clients' own generated class must decode with
 * idemlog's codec to the same field values and re-encode to the same bytes, and kafka-clients must read idemlog's
 * bytes back to the same message (both directions). Versions 4.1 dropped (OffsetCommit v0-v1, OffsetFetch v0) are
 * held to hand-built frames in {@link GroupCodecsRoundTripTest} and to kafka-clients 3.9 in {@link Kafka39OracleTest}.
 */
class GroupCodecsOracleTest {
    private static final byte[] META = "subscription:orders".getBytes(StandardCharsets.UTF_8);
    private static final byte[] ASSIGN = {0, 1, 2, 3, 4, (byte) 0xFF};

    /** Every version of {@code api} that kafka-clients 4.1's generated class also accepts. */
    private static Stream<DynamicTest> versions(GroupApis.Api api, ApiMessage kafka, String what, IntConsumer test) {
        return CodecOracle.versions(api.name(), Math.max(api.minVersion(), kafka.lowestSupportedVersion()),
            api.maxVersion(), what, test);
    }

    @TestFactory
    Stream<DynamicTest> findCoordinator() {
        return Stream.concat(
            versions(GroupApis.FIND_COORDINATOR, new FindCoordinatorRequestData(), "request", v -> {
                FindCoordinatorRequestData k = new FindCoordinatorRequestData();
                if (v <= 3) {
                    k.setKey("group-1");
                } else {
                    k.setCoordinatorKeys(List.of("group-1", "group-2"));
                }
                if (v >= 1) {
                    k.setKeyType((byte) 1);
                }
                check(k, (short) v, FindCoordinatorRequest::read, FindCoordinatorRequestData::new, m -> {
                    assertEquals(v >= 4 ? List.of("group-1", "group-2") : List.of("group-1"), m.keys((short) v));
                    assertEquals(v >= 1 ? 1 : 0, m.keyType);
                });
                FindCoordinatorRequest o = new FindCoordinatorRequest();
                o.key = "g";
                o.coordinatorKeys.add("g");
                FindCoordinatorRequestData e = new FindCoordinatorRequestData();
                if (v <= 3) {
                    e.setKey("g");
                } else {
                    e.setCoordinatorKeys(List.of("g"));
                }
                checkOurs(o, (short) v, e, FindCoordinatorRequestData::new);
            }),
            versions(GroupApis.FIND_COORDINATOR, new FindCoordinatorResponseData(), "response", v -> {
                FindCoordinatorResponseData k = new FindCoordinatorResponseData();
                if (v >= 1) {
                    k.setThrottleTimeMs(9);
                }
                if (v <= 3) {
                    k.setErrorCode((short) 15).setNodeId(3).setHost("127.0.0.1").setPort(9092);
                    if (v >= 1) {
                        k.setErrorMessage("not available");
                    }
                } else {
                    k.setCoordinators(List.of(
                        new FindCoordinatorResponseData.Coordinator().setKey("group-1").setNodeId(3)
                            .setHost("127.0.0.1").setPort(9092).setErrorCode((short) 0).setErrorMessage(null),
                        new FindCoordinatorResponseData.Coordinator().setKey("tx").setNodeId(-1).setHost("")
                            .setPort(-1).setErrorCode((short) 15).setErrorMessage("transactions unsupported")));
                }
                check(k, (short) v, FindCoordinatorResponse::read, FindCoordinatorResponseData::new, m -> {
                    if (v <= 3) {
                        assertEquals(15, m.errorCode);
                        assertEquals(9092, m.port);
                        assertEquals(v >= 1 ? "not available" : null, m.errorMessage);
                    } else {
                        assertEquals(2, m.coordinators.size());
                        assertNull(m.coordinators.get(0).errorMessage);
                        assertEquals("transactions unsupported", m.coordinators.get(1).errorMessage);
                    }
                });
                FindCoordinatorResponse o = new FindCoordinatorResponse()
                    .answer((short) v, "g", 1, "127.0.0.1", 9092, (short) 0, null);
                FindCoordinatorResponseData e = new FindCoordinatorResponseData();
                if (v <= 3) {
                    e.setNodeId(1).setHost("127.0.0.1").setPort(9092).setErrorMessage(v >= 1 ? null : "");
                } else {
                    e.setCoordinators(List.of(new FindCoordinatorResponseData.Coordinator().setKey("g").setNodeId(1)
                        .setHost("127.0.0.1").setPort(9092).setErrorMessage(null)));
                }
                checkOurs(o, (short) v, e, FindCoordinatorResponseData::new);
            }));
    }

    @TestFactory
    Stream<DynamicTest> joinGroup() {
        return Stream.concat(
            versions(GroupApis.JOIN_GROUP, new JoinGroupRequestData(), "request", v -> {
                for (boolean nulls : new boolean[] {false, true}) {
                    JoinGroupRequestData k = new JoinGroupRequestData().setGroupId("g1").setSessionTimeoutMs(45_000)
                        .setMemberId(nulls ? "" : "consumer-1-abc").setProtocolType("consumer");
                    if (v >= 1) {
                        k.setRebalanceTimeoutMs(300_000);
                    }
                    if (v >= 5 && !nulls) {
                        k.setGroupInstanceId("static-1");
                    }
                    if (v >= 8 && !nulls) {
                        k.setReason("rejoin: metadata changed");
                    }
                    JoinGroupRequestData.JoinGroupRequestProtocolCollection ps =
                        new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
                    ps.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("cooperative-sticky")
                        .setMetadata(META));
                    ps.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                        .setMetadata(new byte[0]));
                    k.setProtocols(ps);
                    check(k, (short) v, JoinGroupRequest::read, JoinGroupRequestData::new, m -> {
                        assertEquals("g1", m.groupId);
                        assertEquals(45_000, m.sessionTimeoutMs);
                        assertEquals(v >= 1 ? 300_000 : 45_000, m.effectiveRebalanceTimeoutMs());
                        assertEquals(v >= 5 && !nulls ? "static-1" : null, m.groupInstanceId);
                        assertEquals("consumer", m.protocolType);
                        assertEquals(2, m.protocols.size());
                        assertEquals("cooperative-sticky", m.protocols.get(0).name);
                        assertArrayEquals(META, m.protocols.get(0).metadata);
                        assertEquals(0, m.protocols.get(1).metadata.length);
                        assertEquals(v >= 8 && !nulls ? "rejoin: metadata changed" : null, m.reason);
                    });
                }
            }),
            versions(GroupApis.JOIN_GROUP, new JoinGroupResponseData(), "response", v -> {
                for (boolean nulls : new boolean[] {false, true}) {
                    JoinGroupResponseData k = new JoinGroupResponseData().setErrorCode((short) 79)
                        .setGenerationId(7).setLeader("m-1").setMemberId("m-2");
                    if (v >= 2) {
                        k.setThrottleTimeMs(4);
                    }
                    if (v >= 7) {
                        k.setProtocolType(nulls ? null : "consumer").setProtocolName(nulls ? null : "range");
                    } else {
                        k.setProtocolName("range");
                    }
                    if (v >= 9) {
                        k.setSkipAssignment(!nulls);
                    }
                    JoinGroupResponseData.JoinGroupResponseMember a =
                        new JoinGroupResponseData.JoinGroupResponseMember().setMemberId("m-1").setMetadata(META);
                    JoinGroupResponseData.JoinGroupResponseMember b =
                        new JoinGroupResponseData.JoinGroupResponseMember().setMemberId("m-2")
                            .setMetadata(new byte[] {9});
                    if (v >= 5 && !nulls) {
                        a.setGroupInstanceId("static-1");
                    }
                    k.setMembers(List.of(a, b));
                    check(k, (short) v, JoinGroupResponse::read, JoinGroupResponseData::new, m -> {
                        assertEquals(79, m.errorCode);
                        assertEquals(7, m.generationId);
                        assertEquals(v >= 7 && nulls ? null : "range", m.protocolName);
                        assertEquals(v >= 7 && !nulls ? "consumer" : null, m.protocolType);
                        assertEquals(v >= 9 && !nulls, m.skipAssignment);
                        assertEquals("m-1", m.leader);
                        assertEquals(v >= 5 && !nulls ? "static-1" : null, m.members.get(0).groupInstanceId);
                        assertArrayEquals(new byte[] {9}, m.members.get(1).metadata);
                    });
                }
                // An error answer with no protocol: null goes out as "" below v7 (not nullable there).
                JoinGroupResponse o = new JoinGroupResponse();
                o.errorCode = 25;
                JoinGroupResponseData e = new JoinGroupResponseData().setErrorCode((short) 25)
                    .setProtocolName(v >= 7 ? null : "");
                checkOurs(o, (short) v, e, JoinGroupResponseData::new);
            }));
    }

    @TestFactory
    Stream<DynamicTest> syncGroup() {
        return Stream.concat(
            versions(GroupApis.SYNC_GROUP, new SyncGroupRequestData(), "request", v -> {
                SyncGroupRequestData k = new SyncGroupRequestData().setGroupId("g1").setGenerationId(3)
                    .setMemberId("m-1");
                if (v >= 3) {
                    k.setGroupInstanceId("static-1");
                }
                if (v >= 5) {
                    k.setProtocolType("consumer").setProtocolName("range");
                }
                k.setAssignments(List.of(
                    new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m-1").setAssignment(ASSIGN),
                    new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m-2")
                        .setAssignment(new byte[0])));
                check(k, (short) v, SyncGroupRequest::read, SyncGroupRequestData::new, m -> {
                    assertEquals(3, m.generationId);
                    assertEquals(v >= 3 ? "static-1" : null, m.groupInstanceId);
                    assertEquals(v >= 5 ? "range" : null, m.protocolName);
                    assertArrayEquals(ASSIGN, m.assignments.get(0).assignment);
                    assertEquals("m-2", m.assignments.get(1).memberId);
                });
            }),
            versions(GroupApis.SYNC_GROUP, new SyncGroupResponseData(), "response", v -> {
                SyncGroupResponseData k = new SyncGroupResponseData().setErrorCode((short) 27).setAssignment(ASSIGN);
                if (v >= 1) {
                    k.setThrottleTimeMs(2);
                }
                if (v >= 5) {
                    k.setProtocolType("consumer").setProtocolName(null);
                }
                check(k, (short) v, SyncGroupResponse::read, SyncGroupResponseData::new, m -> {
                    assertEquals(27, m.errorCode);
                    assertArrayEquals(ASSIGN, m.assignment);
                    assertEquals(v >= 5 ? "consumer" : null, m.protocolType);
                    assertNull(m.protocolName);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> heartbeat() {
        return Stream.concat(
            versions(GroupApis.HEARTBEAT, new HeartbeatRequestData(), "request", v -> {
                HeartbeatRequestData k = new HeartbeatRequestData().setGroupId("g1").setGenerationId(12)
                    .setMemberId("m-1");
                if (v >= 3) {
                    k.setGroupInstanceId("static-1");
                }
                check(k, (short) v, HeartbeatRequest::read, HeartbeatRequestData::new, m -> {
                    assertEquals(12, m.generationId);
                    assertEquals("m-1", m.memberId);
                    assertEquals(v >= 3 ? "static-1" : null, m.groupInstanceId);
                });
            }),
            versions(GroupApis.HEARTBEAT, new HeartbeatResponseData(), "response", v -> {
                HeartbeatResponseData k = new HeartbeatResponseData().setErrorCode((short) 27);
                if (v >= 1) {
                    k.setThrottleTimeMs(8);
                }
                check(k, (short) v, HeartbeatResponse::read, HeartbeatResponseData::new,
                    m -> assertEquals(27, m.errorCode));
                checkOurs(new HeartbeatResponse((short) 22), (short) v,
                    new HeartbeatResponseData().setErrorCode((short) 22), HeartbeatResponseData::new);
            }));
    }

    @TestFactory
    Stream<DynamicTest> leaveGroup() {
        return Stream.concat(
            versions(GroupApis.LEAVE_GROUP, new LeaveGroupRequestData(), "request", v -> {
                LeaveGroupRequestData k = new LeaveGroupRequestData().setGroupId("g1");
                if (v <= 2) {
                    k.setMemberId("m-1");
                } else {
                    LeaveGroupRequestData.MemberIdentity a = new LeaveGroupRequestData.MemberIdentity()
                        .setMemberId("m-1").setGroupInstanceId(null);
                    LeaveGroupRequestData.MemberIdentity b = new LeaveGroupRequestData.MemberIdentity()
                        .setMemberId("").setGroupInstanceId("static-2");
                    if (v >= 5) {
                        b.setReason("shutting down");
                    }
                    k.setMembers(List.of(a, b));
                }
                check(k, (short) v, LeaveGroupRequest::read, LeaveGroupRequestData::new, m -> {
                    List<LeaveGroupRequest.Member> leavers = m.leavers((short) v);
                    assertEquals("m-1", leavers.get(0).memberId);
                    assertEquals(v <= 2 ? 1 : 2, leavers.size());
                    if (v >= 3) {
                        assertEquals("static-2", leavers.get(1).groupInstanceId);
                        assertEquals(v >= 5 ? "shutting down" : null, leavers.get(1).reason);
                    }
                });
            }),
            versions(GroupApis.LEAVE_GROUP, new LeaveGroupResponseData(), "response", v -> {
                LeaveGroupResponseData k = new LeaveGroupResponseData().setErrorCode((short) 0);
                if (v >= 1) {
                    k.setThrottleTimeMs(1);
                }
                if (v >= 3) {
                    k.setMembers(List.of(
                        new LeaveGroupResponseData.MemberResponse().setMemberId("m-1").setGroupInstanceId(null)
                            .setErrorCode((short) 0),
                        new LeaveGroupResponseData.MemberResponse().setMemberId("").setGroupInstanceId("static-2")
                            .setErrorCode((short) 25)));
                }
                check(k, (short) v, LeaveGroupResponse::read, LeaveGroupResponseData::new, m -> {
                    assertEquals(v >= 3 ? 2 : 0, m.members.size());
                    if (v >= 3) {
                        assertEquals(25, m.members.get(1).errorCode);
                        assertEquals("static-2", m.members.get(1).groupInstanceId);
                    }
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> offsetCommit() {
        return Stream.concat(
            versions(GroupApis.OFFSET_COMMIT, new OffsetCommitRequestData(), "request", v -> {
                OffsetCommitRequestData k = new OffsetCommitRequestData().setGroupId("g1")
                    .setGenerationIdOrMemberEpoch(5).setMemberId("m-1");
                if (v >= 7) {
                    k.setGroupInstanceId("static-1");
                }
                if (v >= 2 && v <= 4) {
                    k.setRetentionTimeMs(86_400_000L);
                }
                OffsetCommitRequestData.OffsetCommitRequestPartition p0 =
                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                        .setCommittedOffset(1234L).setCommittedMetadata("meta");
                OffsetCommitRequestData.OffsetCommitRequestPartition p7 =
                    new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(7)
                        .setCommittedOffset(Long.MAX_VALUE - 1).setCommittedMetadata(null);
                if (v >= 6) {
                    p0.setCommittedLeaderEpoch(3);
                }
                k.setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("orders")
                    .setPartitions(List.of(p0, p7))));
                check(k, (short) v, OffsetCommitRequest::read, OffsetCommitRequestData::new, m -> {
                    assertEquals(5, m.generationIdOrMemberEpoch);
                    assertEquals(v >= 7 ? "static-1" : null, m.groupInstanceId);
                    assertEquals(v >= 2 && v <= 4 ? 86_400_000L : -1L, m.retentionTimeMs);
                    OffsetCommitRequest.Partition a = m.topics.get(0).partitions.get(0);
                    assertEquals(1234L, a.committedOffset);
                    assertEquals(v >= 6 ? 3 : -1, a.committedLeaderEpoch);
                    assertEquals("meta", a.committedMetadata);
                    assertNull(m.topics.get(0).partitions.get(1).committedMetadata);
                });
            }),
            versions(GroupApis.OFFSET_COMMIT, new OffsetCommitResponseData(), "response", v -> {
                OffsetCommitResponseData k = new OffsetCommitResponseData();
                if (v >= 3) {
                    k.setThrottleTimeMs(6);
                }
                k.setTopics(List.of(new OffsetCommitResponseData.OffsetCommitResponseTopic().setName("orders")
                    .setPartitions(List.of(
                        new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(0),
                        new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(7)
                            .setErrorCode((short) 22)))));
                check(k, (short) v, OffsetCommitResponse::read, OffsetCommitResponseData::new, m -> {
                    assertEquals(22, m.topics.get(0).partitions.get(1).errorCode);
                    assertEquals(v >= 3 ? 6 : 0, m.throttleTimeMs);
                });
                OffsetCommitRequest req = new OffsetCommitRequest();
                OffsetCommitRequest.Topic t = new OffsetCommitRequest.Topic("orders");
                t.partitions.add(new OffsetCommitRequest.Partition(2, 10L, -1, null));
                req.topics.add(t);
                checkOurs(OffsetCommitResponse.allPartitions(req, (short) 25), (short) v,
                    new OffsetCommitResponseData().setTopics(List.of(
                        new OffsetCommitResponseData.OffsetCommitResponseTopic().setName("orders").setPartitions(
                            List.of(new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(2)
                                .setErrorCode((short) 25))))),
                    OffsetCommitResponseData::new);
            }));
    }

    @TestFactory
    Stream<DynamicTest> offsetFetch() {
        return Stream.concat(
            versions(GroupApis.OFFSET_FETCH, new OffsetFetchRequestData(), "request", v -> {
                for (boolean all : new boolean[] {false, true}) {
                    if (all && v < 2) {
                        continue;
                    }
                    OffsetFetchRequestData k = new OffsetFetchRequestData();
                    if (v <= 7) {
                        k.setGroupId("g1").setTopics(all ? null : List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("orders")
                                .setPartitionIndexes(List.of(0, 1, 7))));
                    } else {
                        OffsetFetchRequestData.OffsetFetchRequestGroup g1 =
                            new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g1").setTopics(all
                                ? null
                                : List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("orders")
                                    .setPartitionIndexes(List.of(0, 1, 7))));
                        OffsetFetchRequestData.OffsetFetchRequestGroup g2 =
                            new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g2").setTopics(null);
                        if (v >= 9) {
                            g1.setMemberId("m-1").setMemberEpoch(4);
                        }
                        k.setGroups(List.of(g1, g2));
                    }
                    if (v >= 7) {
                        k.setRequireStable(true);
                    }
                    check(k, (short) v, OffsetFetchRequest::read, OffsetFetchRequestData::new, m -> {
                        List<OffsetFetchRequest.Group> groups = m.groups((short) v);
                        assertEquals(v >= 8 ? 2 : 1, groups.size());
                        OffsetFetchRequest.Group g = groups.get(0);
                        assertEquals("g1", g.groupId);
                        if (all) {
                            assertNull(g.topics);
                        } else {
                            assertArrayEquals(new int[] {0, 1, 7}, g.topics.get(0).partitionIndexes);
                        }
                        assertEquals(v >= 9 ? "m-1" : null, g.memberId);
                        assertEquals(v >= 9 ? 4 : -1, g.memberEpoch);
                        assertEquals(v >= 7, m.requireStable);
                    });
                }
            }),
            versions(GroupApis.OFFSET_FETCH, new OffsetFetchResponseData(), "response", v -> {
                OffsetFetchResponseData k = new OffsetFetchResponseData();
                if (v >= 3) {
                    k.setThrottleTimeMs(3);
                }
                if (v <= 7) {
                    OffsetFetchResponseData.OffsetFetchResponsePartition p0 =
                        new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(0)
                            .setCommittedOffset(99L).setMetadata("meta");
                    OffsetFetchResponseData.OffsetFetchResponsePartition p1 =
                        new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(1)
                            .setCommittedOffset(-1L).setMetadata(null).setErrorCode((short) 3);
                    if (v >= 5) {
                        p0.setCommittedLeaderEpoch(2);
                    }
                    k.setTopics(List.of(new OffsetFetchResponseData.OffsetFetchResponseTopic().setName("orders")
                        .setPartitions(List.of(p0, p1))));
                    if (v >= 2) {
                        k.setErrorCode((short) 14);
                    }
                } else {
                    k.setGroups(List.of(
                        new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId("g1").setTopics(List.of(
                            new OffsetFetchResponseData.OffsetFetchResponseTopics().setName("orders").setPartitions(
                                List.of(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                                    .setPartitionIndex(0).setCommittedOffset(99L).setCommittedLeaderEpoch(2)
                                    .setMetadata("meta"),
                                    new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                                        .setPartitionIndex(1).setCommittedOffset(-1L).setMetadata(null)
                                        .setErrorCode((short) 3))))),
                        new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId("g2")
                            .setErrorCode((short) 14)));
                }
                check(k, (short) v, OffsetFetchResponse::read, OffsetFetchResponseData::new, m -> {
                    List<OffsetFetchResponse.Topic> topics = v <= 7 ? m.topics : m.groups.get(0).topics;
                    OffsetFetchResponse.Partition a = topics.get(0).partitions.get(0);
                    assertEquals(99L, a.committedOffset);
                    assertEquals("meta", a.metadata);
                    assertEquals(v >= 5 ? 2 : -1, a.committedLeaderEpoch);
                    assertNull(topics.get(0).partitions.get(1).metadata);
                    assertEquals(3, topics.get(0).partitions.get(1).errorCode);
                    if (v >= 8) {
                        assertEquals(14, m.groups.get(1).errorCode);
                    } else {
                        assertEquals(v >= 2 ? 14 : 0, m.errorCode);
                    }
                });
                OffsetFetchResponse.Group g = new OffsetFetchResponse.Group("g1");
                OffsetFetchResponse.Topic t = new OffsetFetchResponse.Topic("orders");
                t.partitions.add(new OffsetFetchResponse.Partition(4, 50L, -1, "", (short) 0));
                g.topics.add(t);
                OffsetFetchResponse o = new OffsetFetchResponse().addGroup((short) v, g);
                OffsetFetchResponseData e = new OffsetFetchResponseData();
                if (v <= 7) {
                    e.setTopics(List.of(new OffsetFetchResponseData.OffsetFetchResponseTopic().setName("orders")
                        .setPartitions(List.of(new OffsetFetchResponseData.OffsetFetchResponsePartition()
                            .setPartitionIndex(4).setCommittedOffset(50L).setMetadata("")))));
                } else {
                    e.setGroups(List.of(new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId("g1")
                        .setTopics(List.of(new OffsetFetchResponseData.OffsetFetchResponseTopics().setName("orders")
                            .setPartitions(List.of(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                                .setPartitionIndex(4).setCommittedOffset(50L).setMetadata("")))))));
                }
                checkOurs(o, (short) v, e, OffsetFetchResponseData::new);
                assertTrue(ours(o, (short) v).length > 0);
            }));
    }

    @TestFactory
    Stream<DynamicTest> listGroups() {
        return Stream.concat(
            versions(GroupApis.LIST_GROUPS, new ListGroupsRequestData(), "request", v -> {
                ListGroupsRequestData k = new ListGroupsRequestData();
                if (v >= 4) {
                    k.setStatesFilter(List.of("Stable", "Empty"));
                }
                if (v >= 5) {
                    k.setTypesFilter(List.of("classic"));
                }
                check(k, (short) v, ListGroupsRequest::read, ListGroupsRequestData::new, m -> {
                    assertEquals(v >= 4 ? List.of("Stable", "Empty") : List.of(), m.statesFilter);
                    assertEquals(v >= 5 ? List.of("classic") : List.of(), m.typesFilter);
                });
            }),
            versions(GroupApis.LIST_GROUPS, new ListGroupsResponseData(), "response", v -> {
                ListGroupsResponseData k = new ListGroupsResponseData().setErrorCode((short) 15);
                if (v >= 1) {
                    k.setThrottleTimeMs(5);
                }
                ListGroupsResponseData.ListedGroup g = new ListGroupsResponseData.ListedGroup().setGroupId("g1")
                    .setProtocolType("consumer");
                if (v >= 4) {
                    g.setGroupState("Stable");
                }
                if (v >= 5) {
                    g.setGroupType("classic");
                }
                k.setGroups(List.of(g, new ListGroupsResponseData.ListedGroup().setGroupId("g2").setProtocolType("")));
                check(k, (short) v, ListGroupsResponse::read, ListGroupsResponseData::new, m -> {
                    assertEquals(15, m.errorCode);
                    assertEquals("consumer", m.groups.get(0).protocolType);
                    assertEquals(v >= 4 ? "Stable" : "", m.groups.get(0).groupState);
                    assertEquals(v >= 5 ? "classic" : "", m.groups.get(0).groupType);
                    assertEquals("g2", m.groups.get(1).groupId);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> describeGroups() {
        return Stream.concat(
            versions(GroupApis.DESCRIBE_GROUPS, new DescribeGroupsRequestData(), "request", v -> {
                DescribeGroupsRequestData k = new DescribeGroupsRequestData().setGroups(List.of("g1", "g2"));
                if (v >= 3) {
                    k.setIncludeAuthorizedOperations(true);
                }
                check(k, (short) v, DescribeGroupsRequest::read, DescribeGroupsRequestData::new, m -> {
                    assertEquals(List.of("g1", "g2"), m.groups);
                    assertEquals(v >= 3, m.includeAuthorizedOperations);
                });
            }),
            versions(GroupApis.DESCRIBE_GROUPS, new DescribeGroupsResponseData(), "response", v -> {
                DescribeGroupsResponseData k = new DescribeGroupsResponseData();
                if (v >= 1) {
                    k.setThrottleTimeMs(5);
                }
                DescribeGroupsResponseData.DescribedGroupMember mm =
                    new DescribeGroupsResponseData.DescribedGroupMember().setMemberId("m-1").setClientId("c-1")
                        .setClientHost("/127.0.0.1").setMemberMetadata(META).setMemberAssignment(ASSIGN);
                if (v >= 4) {
                    mm.setGroupInstanceId("static-1");
                }
                DescribeGroupsResponseData.DescribedGroup g = new DescribeGroupsResponseData.DescribedGroup()
                    .setGroupId("g1").setGroupState("Stable").setProtocolType("consumer").setProtocolData("range")
                    .setMembers(List.of(mm));
                DescribeGroupsResponseData.DescribedGroup dead = new DescribeGroupsResponseData.DescribedGroup()
                    .setGroupId("g2").setGroupState("Dead").setProtocolType("").setProtocolData("");
                if (v >= 3) {
                    g.setAuthorizedOperations(0x0F00);
                }
                if (v >= 6) {
                    dead.setErrorCode((short) 69).setErrorMessage("group g2 not found");
                }
                k.setGroups(List.of(g, dead));
                check(k, (short) v, DescribeGroupsResponse::read, DescribeGroupsResponseData::new, m -> {
                    DescribeGroupsResponse.Group a = m.groups.get(0);
                    assertEquals("range", a.protocolData);
                    assertEquals(v >= 3 ? 0x0F00 : Integer.MIN_VALUE, a.authorizedOperations);
                    assertEquals(v >= 4 ? "static-1" : null, a.members.get(0).groupInstanceId);
                    assertArrayEquals(ASSIGN, a.members.get(0).memberAssignment);
                    assertEquals("/127.0.0.1", a.members.get(0).clientHost);
                    assertEquals(v >= 6 ? "group g2 not found" : null, m.groups.get(1).errorMessage);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> deleteGroups() {
        return Stream.concat(
            versions(GroupApis.DELETE_GROUPS, new DeleteGroupsRequestData(), "request", v -> {
                DeleteGroupsRequestData k = new DeleteGroupsRequestData().setGroupsNames(List.of("g1", "g2"));
                check(k, (short) v, DeleteGroupsRequest::read, DeleteGroupsRequestData::new,
                    m -> assertEquals(List.of("g1", "g2"), m.groupsNames));
            }),
            versions(GroupApis.DELETE_GROUPS, new DeleteGroupsResponseData(), "response", v -> {
                DeleteGroupsResponseData.DeletableGroupResultCollection rs =
                    new DeleteGroupsResponseData.DeletableGroupResultCollection();
                rs.add(new DeleteGroupsResponseData.DeletableGroupResult().setGroupId("g1"));
                rs.add(new DeleteGroupsResponseData.DeletableGroupResult().setGroupId("g2").setErrorCode((short) 68));
                DeleteGroupsResponseData k = new DeleteGroupsResponseData().setThrottleTimeMs(5).setResults(rs);
                check(k, (short) v, DeleteGroupsResponse::read, DeleteGroupsResponseData::new, m -> {
                    assertEquals(5, m.throttleTimeMs);
                    assertEquals(68, m.results.get(1).errorCode);
                    assertEquals("g2", m.results.get(1).groupId);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> offsetDelete() {
        return Stream.concat(
            versions(GroupApis.OFFSET_DELETE, new OffsetDeleteRequestData(), "request", v -> {
                OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection ts =
                    new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection();
                ts.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("orders").setPartitions(List.of(
                    new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0),
                    new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(3))));
                ts.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("audit"));
                OffsetDeleteRequestData k = new OffsetDeleteRequestData().setGroupId("g1").setTopics(ts);
                check(k, (short) v, OffsetDeleteRequest::read, OffsetDeleteRequestData::new, m -> {
                    assertEquals("g1", m.groupId);
                    assertArrayEquals(new int[] {0, 3}, m.topics.get(0).partitionIndexes);
                    assertEquals(0, m.topics.get(1).partitionIndexes.length);
                });
            }),
            versions(GroupApis.OFFSET_DELETE, new OffsetDeleteResponseData(), "response", v -> {
                OffsetDeleteResponseData.OffsetDeleteResponsePartitionCollection ps =
                    new OffsetDeleteResponseData.OffsetDeleteResponsePartitionCollection();
                ps.add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition().setPartitionIndex(0));
                ps.add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition().setPartitionIndex(3)
                    .setErrorCode((short) 86));
                OffsetDeleteResponseData.OffsetDeleteResponseTopicCollection ts =
                    new OffsetDeleteResponseData.OffsetDeleteResponseTopicCollection();
                ts.add(new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName("orders").setPartitions(ps));
                OffsetDeleteResponseData k = new OffsetDeleteResponseData().setErrorCode((short) 69)
                    .setThrottleTimeMs(5).setTopics(ts);
                check(k, (short) v, OffsetDeleteResponse::read, OffsetDeleteResponseData::new, m -> {
                    assertEquals(69, m.errorCode);
                    assertEquals(5, m.throttleTimeMs);
                    assertEquals(86, m.topics.get(0).partitions.get(1).errorCode);
                });
            }));
    }

    /** ListOffsets up to v10 (the codec's range; ApiKey advertises what the handler serves). */
    @TestFactory
    Stream<DynamicTest> listOffsetsUpToV10() {
        List<DynamicTest> tests = new ArrayList<>();
        for (short v = 1; v <= ListOffsetsRequest.MAX_VERSION; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("LIST_OFFSETS request v" + v, () -> {
                ListOffsetsRequestData k = new ListOffsetsRequestData().setReplicaId(-1);
                if (version >= 2) {
                    k.setIsolationLevel((byte) 0);
                }
                List<ListOffsetsRequestData.ListOffsetsPartition> ps = new ArrayList<>();
                long[] specs = {-1L, -2L, -3L, -4L, -5L, 1_700_000_000_000L};
                for (int i = 0; i < specs.length; i++) {
                    ListOffsetsRequestData.ListOffsetsPartition p = new ListOffsetsRequestData.ListOffsetsPartition()
                        .setPartitionIndex(i).setTimestamp(specs[i]);
                    if (version >= 4) {
                        p.setCurrentLeaderEpoch(i);
                    }
                    ps.add(p);
                }
                k.setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName("orders").setPartitions(ps)));
                if (version >= 10) {
                    k.setTimeoutMs(30_000);
                }
                check(k, version, ListOffsetsRequest::read, ListOffsetsRequestData::new, m -> {
                    assertEquals(ListOffsetsRequest.MAX_TIMESTAMP, m.topics.get(0).partitions.get(2).timestamp);
                    assertEquals(ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP,
                        m.topics.get(0).partitions.get(3).timestamp);
                    assertEquals(ListOffsetsRequest.LATEST_TIERED_TIMESTAMP,
                        m.topics.get(0).partitions.get(4).timestamp);
                    assertEquals(version >= 10 ? 30_000 : 0, m.timeoutMs);
                });
            }));
            tests.add(DynamicTest.dynamicTest("LIST_OFFSETS response v" + v, () -> {
                ListOffsetsResponseData k = new ListOffsetsResponseData();
                if (version >= 2) {
                    k.setThrottleTimeMs(2);
                }
                ListOffsetsResponseData.ListOffsetsPartitionResponse p =
                    new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(1)
                        .setTimestamp(1_700_000_000_000L).setOffset(42L);
                if (version >= 4) {
                    p.setLeaderEpoch(3);
                }
                k.setTopics(List.of(new ListOffsetsResponseData.ListOffsetsTopicResponse().setName("orders")
                    .setPartitions(List.of(p))));
                check(k, version, ListOffsetsResponse::read, ListOffsetsResponseData::new,
                    m -> assertEquals(42L, m.topics.get(0).partitions.get(0).offset));
            }));
        }
        return tests.stream();
    }
}
