package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DeleteGroupsRequest;
import io.idemlog.common.protocol.message.DeleteGroupsResponse;
import io.idemlog.common.protocol.message.DescribeGroupsRequest;
import io.idemlog.common.protocol.message.DescribeGroupsResponse;
import io.idemlog.common.protocol.message.FindCoordinatorRequest;
import io.idemlog.common.protocol.message.FindCoordinatorResponse;
import io.idemlog.common.protocol.message.HeartbeatRequest;
import io.idemlog.common.protocol.message.HeartbeatResponse;
import io.idemlog.common.protocol.message.JoinGroupRequest;
import io.idemlog.common.protocol.message.JoinGroupResponse;
import io.idemlog.common.protocol.message.LeaveGroupRequest;
import io.idemlog.common.protocol.message.LeaveGroupResponse;
import io.idemlog.common.protocol.message.ListGroupsRequest;
import io.idemlog.common.protocol.message.ListGroupsResponse;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.OffsetCommitRequest;
import io.idemlog.common.protocol.message.OffsetCommitResponse;
import io.idemlog.common.protocol.message.OffsetDeleteRequest;
import io.idemlog.common.protocol.message.OffsetDeleteResponse;
import io.idemlog.common.protocol.message.OffsetFetchRequest;
import io.idemlog.common.protocol.message.OffsetFetchResponse;
import io.idemlog.common.protocol.message.SyncGroupRequest;
import io.idemlog.common.protocol.message.SyncGroupResponse;
import io.idemlog.server.group.GroupCoordinator;
import io.idemlog.server.group.GroupCoordinatorService;
import io.idemlog.server.group.TopicPartition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The handlers of the consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete. Each decodes on the event loop,
 * hands the work to the coordinator's thread ({@link GroupCoordinatorService#submit}) and returns; the answer is
 * encoded and sent from the coordinator thread when the coordinator calls back (at once, after a rebalance, or after
 * the offsets' fsync). Before the committed offsets are loaded every group API but FindCoordinator answers
 * COORDINATOR_LOAD_IN_PROGRESS (clients retry); if they could not be loaded, COORDINATOR_NOT_AVAILABLE.
 *
 * <p>FindCoordinator names this node for every group on a single node (it is every group's coordinator); in cluster
 * mode it names the node leading the replicated offsets group (every group's coordinator there), and the other
 * nodes answer the group APIs NOT_COORDINATOR (ListGroups: an empty list, as a Kafka broker coordinating no group
 * does), so that clients look the coordinator up again after it moved. A transactional
 * id (key type 1) gets INVALID_REQUEST with the message "idemlog does not support transactions ...": a
 * non-retriable error is what makes kafka-clients' transactional producer fail at once with that message ("Could
 * not find a coordinator with type TRANSACTION with key ... due to unexpected error: idemlog does not support
 * transactions ..."); COORDINATOR_NOT_AVAILABLE would be retried silently until max.block.ms, and
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED would blame ACLs.
 */
final class GroupHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(GroupHandlers.class);
    static final String NO_TRANSACTIONS = "idemlog does not support transactions: use an idempotent producer "
        + "(enable.idempotence=true) without transactional.id";
    static final String NO_CLUSTER_COORDINATOR = "no group coordinator right now: the offsets group has no leader "
        + "(an election is under way, or no majority of controller.quorum.voters is up)";
    static final String NO_SHARE_GROUPS = "idemlog does not support share groups (KIP-932)";

    private final BrokerContext broker;
    private final GroupCoordinators groups;

    private GroupHandlers(BrokerContext broker, GroupCoordinators groups) {
        this.broker = broker;
        this.groups = groups;
    }

    /** Installs the handlers of the group APIs into {@code handlers}. {@code groups} null: none available. */
    static void register(ApiHandler[] handlers, BrokerContext broker, GroupCoordinators groups) {
        GroupHandlers h = new GroupHandlers(broker, groups);
        handlers[ApiKey.FIND_COORDINATOR.id] = h::findCoordinator;
        handlers[ApiKey.JOIN_GROUP.id] = h::joinGroup;
        handlers[ApiKey.SYNC_GROUP.id] = h::syncGroup;
        handlers[ApiKey.HEARTBEAT.id] = h::heartbeat;
        handlers[ApiKey.LEAVE_GROUP.id] = h::leaveGroup;
        handlers[ApiKey.OFFSET_COMMIT.id] = h::offsetCommit;
        handlers[ApiKey.OFFSET_FETCH.id] = h::offsetFetch;
        handlers[ApiKey.LIST_GROUPS.id] = h::listGroups;
        handlers[ApiKey.DESCRIBE_GROUPS.id] = h::describeGroups;
        handlers[ApiKey.DELETE_GROUPS.id] = h::deleteGroups;
        handlers[ApiKey.OFFSET_DELETE.id] = h::offsetDelete;
    }

    /**
     * NONE when {@code service} (this node's coordinator now, null: none) can take work, else the error every group
     * answer carries: NOT_COORDINATOR in cluster mode when another node is the coordinator (clients look it up again).
     */
    private ErrorCode unavailable(GroupCoordinatorService service) {
        if (service == null || !service.isRunning()) {
            return groups.clustered() ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        if (service.loadFailed()) {
            return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        return service.isLoaded() ? ErrorCode.NONE : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }

    /**
     * Runs {@code task} on the coordinator thread. When the service closed meanwhile: in cluster mode (the
     * leadership moved) {@code moved} answers; on a single node the server is shutting down and the connection closes.
     */
    private void submit(RequestContext ctx, GroupCoordinatorService service, Consumer<GroupCoordinator> task,
                        Runnable moved) {
        if (!service.submit(c -> {
            try {
                task.accept(c);
            } catch (RuntimeException e) {
                broker.metrics().internalErrors.increment();
                LOG.error("group request {} from {} failed; closing the connection", ctx.api, ctx.remoteAddress(), e);
                ctx.closeConnection("internal error in the group coordinator");
            }
        })) {
            if (groups.clustered()) {
                moved.run();
            } else {
                ctx.closeConnection("server shutting down: group coordinator closed");
            }
        }
    }

    /**
     * The steps every group API but FindCoordinator shares: count the request, decode it (on the event loop), answer
     * {@code refusal} at once while the coordinator cannot take work, else {@code prepare} the work (still on the
     * event loop) and run it on the coordinator thread, which answers.
     */
    private <Q> void serve(RequestContext ctx, WireReader body, ApiKey api, BiFunction<WireReader, Short, Q> decode,
                           BiFunction<Q, ErrorCode, Message> refusal, Function<Q, Consumer<GroupCoordinator>> prepare) {
        broker.metrics().request(api);
        Q req = decode.apply(body, ctx.version);
        GroupCoordinatorService service = groups.local();
        ErrorCode down = unavailable(service);
        if (down != ErrorCode.NONE) {
            ctx.respond(refusal.apply(req, down));
            return;
        }
        submit(ctx, service, prepare.apply(req), () -> ctx.respond(refusal.apply(req, ErrorCode.NOT_COORDINATOR)));
    }

    private static String clientHost(RequestContext ctx) {
        SocketAddress a = ctx.remoteAddress();
        return a instanceof InetSocketAddress i ? "/" + i.getAddress().getHostAddress() : String.valueOf(a);
    }

    // ------------------------------------------------------------------------------------------ FindCoordinator

    private void findCoordinator(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.FIND_COORDINATOR);
        FindCoordinatorRequest req = FindCoordinatorRequest.read(body, ctx.version);
        FindCoordinatorResponse rsp = new FindCoordinatorResponse();
        int nodeId = broker.config().nodeId;
        String host;
        int port;
        if (broker.config().advertisedListener != null) {
            host = broker.config().advertisedListener.host();
            port = broker.config().advertisedListener.port();
        } else {
            host = broker.config().listener.host();
            port = ctx.localAddress() instanceof InetSocketAddress a ? a.getPort() : broker.config().listener.port();
        }
        GroupCoordinators.Endpoint elsewhere = groups.clustered() ? groups.coordinator() : null;
        for (String key : req.keys(ctx.version)) {
            if (req.keyType == FindCoordinatorRequest.KEY_TYPE_GROUP && groups.clustered()) {
                // every group has the one coordinator: the node leading the offsets group
                if (elsewhere == null) {
                    rsp.answer(ctx.version, key, -1, "", -1, ErrorCode.COORDINATOR_NOT_AVAILABLE.code,
                        NO_CLUSTER_COORDINATOR);
                } else {
                    rsp.answer(ctx.version, key, elsewhere.nodeId(), elsewhere.host(), elsewhere.port(),
                        ErrorCode.NONE.code, null);
                }
            } else if (req.keyType == FindCoordinatorRequest.KEY_TYPE_GROUP) {
                rsp.answer(ctx.version, key, nodeId, host, port, ErrorCode.NONE.code, null);
            } else if (req.keyType == FindCoordinatorRequest.KEY_TYPE_TRANSACTION) {
                LOG.debug("FindCoordinator for transactional id '{}' from {}: transactions are not supported",
                    LogSafe.string(key), ctx.remoteAddress());
                rsp.answer(ctx.version, key, -1, "", -1, ErrorCode.INVALID_REQUEST.code, NO_TRANSACTIONS);
            } else {
                rsp.answer(ctx.version, key, -1, "", -1, ErrorCode.INVALID_REQUEST.code, NO_SHARE_GROUPS);
            }
        }
        ctx.respond(rsp);
    }

    // ------------------------------------------------------------------------------------------ JoinGroup

    private void joinGroup(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.JOIN_GROUP, JoinGroupRequest::read, (req, down) -> {
            JoinGroupResponse rsp = new JoinGroupResponse();
            rsp.errorCode = down.code;
            rsp.memberId = req.memberId;
            return rsp;
        }, req -> joinWork(ctx, req));
    }

    private Consumer<GroupCoordinator> joinWork(RequestContext ctx, JoinGroupRequest req) {
        List<GroupCoordinator.Protocol> protocols = new ArrayList<>(req.protocols.size());
        for (JoinGroupRequest.Protocol p : req.protocols) {
            protocols.add(new GroupCoordinator.Protocol(p.name, p.metadata));
        }
        GroupCoordinator.JoinRequest join = new GroupCoordinator.JoinRequest(req.groupId, req.memberId,
            req.groupInstanceId, ctx.header.clientId == null ? "" : ctx.header.clientId, clientHost(ctx),
            req.sessionTimeoutMs, req.effectiveRebalanceTimeoutMs(), req.protocolType, protocols,
            ctx.version >= 4, ctx.version >= 9);
        return c -> c.join(join, res -> {
            JoinGroupResponse rsp = new JoinGroupResponse();
            rsp.errorCode = res.error().code;
            rsp.generationId = res.generationId();
            rsp.protocolType = res.protocolType();
            rsp.protocolName = res.protocolName();
            rsp.leader = res.leaderId() == null ? "" : res.leaderId();
            rsp.skipAssignment = res.skipAssignment();
            rsp.memberId = res.memberId() == null ? "" : res.memberId();
            for (GroupCoordinator.JoinMember m : res.members()) {
                rsp.members.add(new JoinGroupResponse.Member(m.memberId(), m.groupInstanceId(), m.metadata()));
            }
            ctx.respond(rsp);
        });
    }

    // ------------------------------------------------------------------------------------------ SyncGroup

    private void syncGroup(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.SYNC_GROUP, SyncGroupRequest::read, (req, down) -> {
            SyncGroupResponse rsp = new SyncGroupResponse();
            rsp.errorCode = down.code;
            return rsp;
        }, req -> syncWork(ctx, req));
    }

    private static Consumer<GroupCoordinator> syncWork(RequestContext ctx, SyncGroupRequest req) {
        Map<String, byte[]> assignments = new HashMap<>();
        for (SyncGroupRequest.Assignment a : req.assignments) {
            assignments.put(a.memberId, a.assignment);
        }
        GroupCoordinator.SyncRequest sync = new GroupCoordinator.SyncRequest(req.groupId, req.generationId,
            req.memberId, req.groupInstanceId, req.protocolType, req.protocolName, assignments);
        return c -> c.sync(sync, res -> {
            SyncGroupResponse rsp = new SyncGroupResponse();
            rsp.errorCode = res.error().code;
            rsp.protocolType = res.protocolType();
            rsp.protocolName = res.protocolName();
            rsp.assignment = res.assignment();
            ctx.respond(rsp);
        });
    }

    // ------------------------------------------------------------------------------------------ Heartbeat

    private void heartbeat(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.HEARTBEAT, HeartbeatRequest::read, (req, down) -> new HeartbeatResponse(down.code),
            req -> c -> ctx.respond(new HeartbeatResponse(
                c.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId).code)));
    }

    // ------------------------------------------------------------------------------------------ LeaveGroup

    private void leaveGroup(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.LEAVE_GROUP, LeaveGroupRequest::read, (req, down) -> {
            LeaveGroupResponse rsp = new LeaveGroupResponse();
            rsp.errorCode = down.code;
            return rsp;
        }, req -> leaveWork(ctx, req));
    }

    private static Consumer<GroupCoordinator> leaveWork(RequestContext ctx, LeaveGroupRequest req) {
        List<LeaveGroupRequest.Member> leavers = req.leavers(ctx.version);
        List<GroupCoordinator.MemberIdentity> who = new ArrayList<>(leavers.size());
        for (LeaveGroupRequest.Member m : leavers) {
            who.add(new GroupCoordinator.MemberIdentity(m.memberId, m.groupInstanceId));
        }
        return c -> {
            GroupCoordinator.LeaveResult res = c.leave(req.groupId, who);
            LeaveGroupResponse rsp = new LeaveGroupResponse();
            rsp.errorCode = res.error().code;
            if (ctx.version >= 3) {
                for (int i = 0; i < res.memberErrors().size(); i++) {
                    LeaveGroupRequest.Member m = leavers.get(i);
                    rsp.members.add(new LeaveGroupResponse.Member(m.memberId, m.groupInstanceId,
                        res.memberErrors().get(i).code));
                }
            } else if (res.error() == ErrorCode.NONE && !res.memberErrors().isEmpty()) {
                rsp.errorCode = res.memberErrors().get(0).code; // v0-2: the one member's error is the answer
            }
            ctx.respond(rsp);
        };
    }

    // ------------------------------------------------------------------------------------------ OffsetCommit

    private void offsetCommit(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.OFFSET_COMMIT, OffsetCommitRequest::read,
            (req, down) -> OffsetCommitResponse.allPartitions(req, down.code), req -> commitWork(ctx, req));
    }

    private static Consumer<GroupCoordinator> commitWork(RequestContext ctx, OffsetCommitRequest req) {
        List<GroupCoordinator.CommitEntry> entries = new ArrayList<>();
        long commitTimestamp = -1;
        for (OffsetCommitRequest.Topic t : req.topics) {
            for (OffsetCommitRequest.Partition p : t.partitions) {
                entries.add(new GroupCoordinator.CommitEntry(new TopicPartition(t.name, p.partitionIndex),
                    p.committedOffset, p.committedLeaderEpoch, p.committedMetadata));
                if (ctx.version == 1 && p.commitTimestamp >= 0) {
                    commitTimestamp = Math.max(commitTimestamp, p.commitTimestamp);
                }
            }
        }
        long retention = ctx.version >= 2 && ctx.version <= 4 ? req.retentionTimeMs : -1;
        GroupCoordinator.CommitRequest commit = new GroupCoordinator.CommitRequest(req.groupId,
            ctx.version >= 1 ? req.generationIdOrMemberEpoch : -1, ctx.version >= 1 ? req.memberId : "",
            req.groupInstanceId, entries, commitTimestamp, retention);
        return c -> c.commitOffsets(commit, errors -> {
            OffsetCommitResponse rsp = new OffsetCommitResponse();
            int i = 0;
            for (OffsetCommitRequest.Topic t : req.topics) {
                OffsetCommitResponse.Topic rt = new OffsetCommitResponse.Topic(t.name);
                for (OffsetCommitRequest.Partition p : t.partitions) {
                    rt.partitions.add(new OffsetCommitResponse.Partition(p.partitionIndex, errors.get(i++).code));
                }
                rsp.topics.add(rt);
            }
            ctx.respond(rsp);
        });
    }

    // ------------------------------------------------------------------------------------------ OffsetFetch

    private void offsetFetch(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.OFFSET_FETCH, OffsetFetchRequest::read, (req, down) -> {
            OffsetFetchResponse rsp = new OffsetFetchResponse();
            for (OffsetFetchRequest.Group g : req.groups(ctx.version)) {
                rsp.addGroup(ctx.version, fetchAnswer(ctx.version, g, down, List.of()));
            }
            return rsp;
        }, req -> fetchWork(ctx, req.groups(ctx.version)));
    }

    private static Consumer<GroupCoordinator> fetchWork(RequestContext ctx, List<OffsetFetchRequest.Group> asked) {
        return c -> {
            OffsetFetchResponse.Group[] answers = new OffsetFetchResponse.Group[asked.size()];
            int[] remaining = {asked.size()};
            if (asked.isEmpty()) {
                ctx.respond(new OffsetFetchResponse());
                return;
            }
            for (int gi = 0; gi < asked.size(); gi++) {
                OffsetFetchRequest.Group g = asked.get(gi);
                List<TopicPartition> partitions = null;
                if (g.topics != null) {
                    partitions = new ArrayList<>();
                    for (OffsetFetchRequest.Topic t : g.topics) {
                        for (int p : t.partitionIndexes) {
                            partitions.add(new TopicPartition(t.name, p));
                        }
                    }
                }
                int index = gi;
                c.fetchOffsets(g.groupId, partitions, res -> {
                    answers[index] = fetchAnswer(ctx.version, g, res.error(), res.offsets());
                    if (--remaining[0] == 0) {
                        OffsetFetchResponse rsp = new OffsetFetchResponse();
                        for (OffsetFetchResponse.Group a : answers) {
                            rsp.addGroup(ctx.version, a);
                        }
                        ctx.respond(rsp);
                    }
                });
            }
        };
    }

    /** One group's answer; v0-1 have no group-level error, so a group error goes into each partition. */
    private static OffsetFetchResponse.Group fetchAnswer(short version, OffsetFetchRequest.Group asked, ErrorCode error,
                                                         List<GroupCoordinator.FetchedOffset> offsets) {
        OffsetFetchResponse.Group g = new OffsetFetchResponse.Group(asked.groupId);
        g.errorCode = error.code;
        Map<String, OffsetFetchResponse.Topic> topics = new LinkedHashMap<>();
        if (error != ErrorCode.NONE) {
            if (version <= 1 && asked.topics != null) {
                for (OffsetFetchRequest.Topic t : asked.topics) {
                    OffsetFetchResponse.Topic rt = topics.computeIfAbsent(t.name, OffsetFetchResponse.Topic::new);
                    for (int p : t.partitionIndexes) {
                        rt.partitions.add(new OffsetFetchResponse.Partition(p, -1L, -1, "", error.code));
                    }
                }
            }
        } else {
            for (GroupCoordinator.FetchedOffset f : offsets) {
                topics.computeIfAbsent(f.tp().topic(), OffsetFetchResponse.Topic::new).partitions.add(
                    new OffsetFetchResponse.Partition(f.tp().partition(), f.offset(), f.leaderEpoch(), f.metadata(),
                        f.error().code));
            }
        }
        g.topics.addAll(topics.values());
        return g;
    }

    // ------------------------------------------------------------------------------------------ admin

    private void listGroups(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.LIST_GROUPS, ListGroupsRequest::read, (req, down) -> {
            ListGroupsResponse rsp = new ListGroupsResponse();
            // a node that coordinates no group lists none (Admin.listConsumerGroups asks every broker)
            rsp.errorCode = down == ErrorCode.NOT_COORDINATOR ? ErrorCode.NONE.code : down.code;
            return rsp;
        }, req -> c -> {
            ListGroupsResponse rsp = new ListGroupsResponse();
            boolean classicWanted = req.typesFilter.isEmpty();
            for (String t : req.typesFilter) {
                classicWanted |= "classic".equalsIgnoreCase(t);
            }
            if (classicWanted) {
                for (GroupCoordinator.GroupListing g : c.listGroups(req.statesFilter, List.of())) {
                    rsp.groups.add(new ListGroupsResponse.Group(g.groupId(), g.protocolType(), g.state(), "classic"));
                }
            }
            ctx.respond(rsp);
        });
    }

    private void describeGroups(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.DESCRIBE_GROUPS, DescribeGroupsRequest::read, (req, down) -> {
            DescribeGroupsResponse rsp = new DescribeGroupsResponse();
            for (String id : req.groups) {
                DescribeGroupsResponse.Group g = new DescribeGroupsResponse.Group();
                g.groupId = id;
                g.errorCode = down.code;
                rsp.groups.add(g);
            }
            return rsp;
        }, req -> c -> {
            DescribeGroupsResponse rsp = new DescribeGroupsResponse();
            for (GroupCoordinator.GroupDescription d : c.describeGroups(req.groups)) {
                DescribeGroupsResponse.Group g = new DescribeGroupsResponse.Group();
                g.groupId = d.groupId();
                g.errorCode = d.error().code;
                g.groupState = d.state();
                g.protocolType = d.protocolType();
                g.protocolData = d.protocolName();
                if (ctx.version >= 6 && "Dead".equals(d.state()) && d.members().isEmpty()) {
                    // KIP-1043: v6 says plainly that there is no such group
                    g.errorCode = ErrorCode.GROUP_ID_NOT_FOUND.code;
                    g.errorMessage = "Group " + d.groupId() + " not found.";
                }
                for (GroupCoordinator.MemberDescription m : d.members()) {
                    DescribeGroupsResponse.Member rm = new DescribeGroupsResponse.Member();
                    rm.memberId = m.memberId();
                    rm.groupInstanceId = m.groupInstanceId();
                    rm.clientId = m.clientId() == null ? "" : m.clientId();
                    rm.clientHost = m.clientHost() == null ? "" : m.clientHost();
                    rm.memberMetadata = m.metadata();
                    rm.memberAssignment = m.assignment();
                    g.members.add(rm);
                }
                rsp.groups.add(g);
            }
            ctx.respond(rsp);
        });
    }

    private void deleteGroups(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.DELETE_GROUPS, DeleteGroupsRequest::read, (req, down) -> {
            DeleteGroupsResponse rsp = new DeleteGroupsResponse();
            for (String id : req.groupsNames) {
                rsp.results.add(new DeleteGroupsResponse.Result(id, down.code));
            }
            return rsp;
        }, req -> c -> c.deleteGroups(req.groupsNames, errors -> {
            DeleteGroupsResponse rsp = new DeleteGroupsResponse();
            for (int i = 0; i < errors.size(); i++) {
                rsp.results.add(new DeleteGroupsResponse.Result(req.groupsNames.get(i), errors.get(i).code));
            }
            ctx.respond(rsp);
        }));
    }

    private void offsetDelete(RequestContext ctx, WireReader body) {
        serve(ctx, body, ApiKey.OFFSET_DELETE, OffsetDeleteRequest::read, (req, down) -> {
            OffsetDeleteResponse rsp = new OffsetDeleteResponse();
            rsp.errorCode = down.code;
            return rsp;
        }, req -> offsetDeleteWork(ctx, req));
    }

    private Consumer<GroupCoordinator> offsetDeleteWork(RequestContext ctx, OffsetDeleteRequest req) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (OffsetDeleteRequest.Topic t : req.topics) {
            for (int p : t.partitionIndexes) {
                partitions.add(new TopicPartition(t.name, p));
            }
        }
        return c -> c.deleteOffsets(req.groupId, partitions, res -> {
            OffsetDeleteResponse rsp = new OffsetDeleteResponse();
            rsp.errorCode = res.error().code;
            if (res.error() == ErrorCode.NONE) {
                for (OffsetDeleteRequest.Topic t : req.topics) {
                    OffsetDeleteResponse.Topic rt = new OffsetDeleteResponse.Topic(t.name);
                    for (int p : t.partitionIndexes) {
                        ErrorCode e = broker.logs().partition(t.name, p) == null
                            ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                            : res.partitions().getOrDefault(new TopicPartition(t.name, p), ErrorCode.NONE);
                        rt.partitions.add(new OffsetDeleteResponse.Partition(p, e.code));
                    }
                    rsp.topics.add(rt);
                }
            }
            ctx.respond(rsp);
        });
    }
}
