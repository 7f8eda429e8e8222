package io.idemlog.server.group;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.EpochClock;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The classic group coordinator (Kafka's GroupCoordinator for the JoinGroup/SyncGroup protocol), as a single-threaded
 * state machine: every method runs on the coordinator's one thread ({@link GroupCoordinatorService}, or a test),
 * never blocks, and answers through a callback, at once or later (a JoinGroup waits for the rebalance to complete,
 * a follower's SyncGroup for the leader's assignment, an OffsetCommit for its fsync). Time comes from the injected
 * clock; {@link #tick()} runs whatever has come due (session timeouts, rebalance timeouts, the initial delay,
 * offset expiry).
 *
 * <p>The coordinator relays: the group leader's client computes the assignment (range, round-robin, sticky,
 * cooperative-sticky: any client-side assignor) and the coordinator hands each member its part.
 *
 * <p>What is durable: committed offsets (through the {@link OffsetJournal}, answered only once fsync'd). Membership
 * is not: after a restart every group is Empty with its offsets, and members rejoin (their next heartbeat gets
 * UNKNOWN_MEMBER_ID, which makes a client rejoin with its committed positions).
 */
public final class GroupCoordinator {
    /** A protocol a member supports (e.g. "range"), with its subscription metadata. */
    public record Protocol(String name, byte[] metadata) {
    }

    public record JoinRequest(String groupId, String memberId, String groupInstanceId, String clientId,
                              String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs, String protocolType,
                              List<Protocol> protocols, boolean requireKnownMemberId,
                              boolean supportsSkipAssignment) {
    }

    public record JoinMember(String memberId, String groupInstanceId, byte[] metadata) {
    }

    public record JoinResult(ErrorCode error, int generationId, String protocolType, String protocolName,
                             String leaderId, boolean skipAssignment, String memberId, List<JoinMember> members) {
        static JoinResult error(ErrorCode error, String memberId) {
            return new JoinResult(error, -1, null, null, "", false, memberId, List.of());
        }
    }

    public record SyncRequest(String groupId, int generationId, String memberId, String groupInstanceId,
                              String protocolType, String protocolName, Map<String, byte[]> assignments) {
    }

    public record SyncResult(ErrorCode error, String protocolType, String protocolName, byte[] assignment) {
        static SyncResult error(ErrorCode error) {
            return new SyncResult(error, null, null, Member.EMPTY);
        }
    }

    public record MemberIdentity(String memberId, String groupInstanceId) {
    }

    public record LeaveResult(ErrorCode error, List<ErrorCode> memberErrors) {
    }

    public record CommitEntry(TopicPartition tp, long offset, int leaderEpoch, String metadata) {
    }

    /**
     * @param commitTimestamp a v1 commit's own timestamp, or -1 (the coordinator's clock)
     * @param retentionMs     a v2-v4 commit's retention time, or -1 (the group's retention applies)
     */
    public record CommitRequest(String groupId, int generationId, String memberId, String groupInstanceId,
                                List<CommitEntry> entries, long commitTimestamp, long retentionMs) {
    }

    public record FetchedOffset(TopicPartition tp, long offset, int leaderEpoch, String metadata, ErrorCode error) {
    }

    public record FetchResult(ErrorCode error, List<FetchedOffset> offsets) {
    }

    public record GroupListing(String groupId, String protocolType, String state) {
    }

    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
                                    byte[] metadata, byte[] assignment) {
    }

    public record GroupDescription(String groupId, ErrorCode error, String state, String protocolType,
                                   String protocolName, List<MemberDescription> members) {
    }

    public record DeleteOffsetsResult(ErrorCode error, Map<TopicPartition, ErrorCode> partitions) {
    }

    private final GroupConfig config;
    private final EpochClock clock;
    private final OffsetJournal journal;
    private final Predicate<TopicPartition> partitionExists;
    private final Random random;
    private final Map<String, Group> groups = new HashMap<>();
    private long nextExpiryCheckMs;
    private long rebalances;

    /**
     * @param partitionExists whether a partition exists (commits to others get UNKNOWN_TOPIC_OR_PARTITION); must be
     *                        safe to call from the coordinator thread
     * @param random          source of member ids (seeded in simulations, so that a run can be repeated)
     */
    public GroupCoordinator(GroupConfig config, EpochClock clock, OffsetJournal journal,
                            Predicate<TopicPartition> partitionExists, Random random) {
        this.config = config;
        this.clock = clock;
        this.journal = journal;
        this.partitionExists = partitionExists;
        this.random = random;
        this.nextExpiryCheckMs = clock.time() + config.retentionCheckIntervalMs();
    }

    /**
     * Installs what was read from storage: every group is Empty (membership is not durable). A group that was Empty
     * keeps the time it became so (its offsets' retention goes on counting from then, as in Kafka); one that had
     * members when the server stopped is Empty from now (its members are gone now); one without a record (it only
     * ever committed: assign() users, tools) expires by commit times. Group records without offsets are dropped.
     * Offsets of partitions that no longer exist are dropped too, durably: a topic deleted just before a crash
     * (durable in the topic metadata, its offsets' tombstones not yet) must not leave its offsets to a re-created
     * topic of the same name (commits are only accepted for existing partitions, so nothing else is lost).
     */
    public void load(Map<String, Map<TopicPartition, OffsetValue>> stored,
                     Map<String, OffsetJournal.GroupRecord> records) {
        long now = clock.time();
        for (Map.Entry<String, Map<TopicPartition, OffsetValue>> e : stored.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            Map<TopicPartition, OffsetValue> live = new TreeMap<>();
            for (Map.Entry<TopicPartition, OffsetValue> o : e.getValue().entrySet()) {
                if (partitionExists.test(o.getKey())) {
                    live.put(o.getKey(), o.getValue());
                } else {
                    journal.delete(e.getKey(), o.getKey());
                }
            }
            if (live.isEmpty()) {
                continue;
            }
            Group g = groups.computeIfAbsent(e.getKey(), id -> new Group(id, now));
            g.offsets.putAll(live);
            OffsetJournal.GroupRecord r = records.get(e.getKey());
            if (r != null) {
                g.protocolType = r.protocolType();
                g.recorded = r;
                if (r.emptySinceMs() >= 0) {
                    g.stateSinceMs = r.emptySinceMs();
                } else {
                    recordGroup(g);
                }
            }
        }
        for (String id : records.keySet()) {
            if (!groups.containsKey(id)) {
                journal.deleteGroup(id);
            }
        }
    }

    /** Journals the group's record when it changed (a group that never had members has none). */
    private void recordGroup(Group g) {
        if (g.protocolType == null) {
            return;
        }
        OffsetJournal.GroupRecord r = new OffsetJournal.GroupRecord(g.protocolType,
            g.is(GroupState.EMPTY) ? g.stateSinceMs : -1);
        if (!r.equals(g.recorded)) {
            journal.putGroup(g.groupId, r);
            g.recorded = r;
        }
    }

    /** The group is gone: Dead, removed, and its record deleted. */
    private void removeGroup(Group g, long now) {
        g.transitionTo(GroupState.DEAD, now);
        groups.remove(g.groupId);
        if (g.recorded != null) {
            journal.deleteGroup(g.groupId);
            g.recorded = null;
        }
    }

    /** Rebalances completed (generations started) since the start, over every group. */
    public long rebalances() {
        return rebalances;
    }

    /** The group records of the live groups (what a snapshot holds besides the offsets). */
    public Map<String, OffsetJournal.GroupRecord> groupRecordsSnapshot() {
        Map<String, OffsetJournal.GroupRecord> out = new TreeMap<>();
        for (Group g : groups.values()) {
            if (g.recorded != null) {
                out.put(g.groupId, g.recorded);
            }
        }
        return out;
    }

    /** The committed offsets, by group (what a snapshot holds). */
    public Map<String, Map<TopicPartition, OffsetValue>> offsetsSnapshot() {
        Map<String, Map<TopicPartition, OffsetValue>> out = new TreeMap<>();
        for (Group g : groups.values()) {
            if (!g.offsets.isEmpty()) {
                out.put(g.groupId, new TreeMap<>(g.offsets));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------- JoinGroup

    public void join(JoinRequest r, Consumer<JoinResult> callback) {
        String memberId = r.memberId() == null ? "" : r.memberId();
        if (r.groupId() == null || r.groupId().isEmpty()) {
            callback.accept(JoinResult.error(ErrorCode.INVALID_GROUP_ID, memberId));
            return;
        }
        if (r.sessionTimeoutMs() < config.minSessionTimeoutMs() || r.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            callback.accept(JoinResult.error(ErrorCode.INVALID_SESSION_TIMEOUT, memberId));
            return;
        }
        boolean unknownMember = memberId.isEmpty();
        Group g = groups.get(r.groupId());
        if (g == null) {
            if (!unknownMember) {
                callback.accept(JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
                return;
            }
            g = new Group(r.groupId(), clock.time());
            groups.put(g.groupId, g);
        }
        if (g.is(GroupState.DEAD)) {
            callback.accept(JoinResult.error(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
            return;
        }
        if (!supportsProtocols(g, r.protocolType(), r.protocols())) {
            callback.accept(JoinResult.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
            return;
        }
        if (unknownMember) {
            joinUnknownMember(g, r, callback);
        } else {
            joinKnownMember(g, r, callback);
        }
    }

    private static boolean supportsProtocols(Group g, String protocolType, List<Protocol> protocols) {
        if (protocolType == null || protocolType.isEmpty() || protocols == null || protocols.isEmpty()) {
            return false;
        }
        if (g.members.isEmpty()) {
            return true;
        }
        if (!protocolType.equals(g.protocolType)) {
            return false;
        }
        for (Protocol p : protocols) {
            if (supportedByAll(g, p.name())) {
                return true;
            }
        }
        return false;
    }

    private static boolean supportedByAll(Group g, String protocolName) {
        for (Member m : g.members.values()) {
            if (m.metadata(protocolName) == null) {
                return false;
            }
        }
        return true;
    }

    private String newMemberId(String clientId) {
        return (clientId == null ? "" : clientId) + "-" + new UUID(random.nextLong(), random.nextLong());
    }

    private boolean full(Group g) {
        return g.members.size() + g.pendingMembers.size() >= config.maxSize();
    }

    private void joinUnknownMember(Group g, JoinRequest r, Consumer<JoinResult> callback) {
        String newId = newMemberId(r.clientId());
        if (r.groupInstanceId() != null) {
            Member existing = g.memberByInstance(r.groupInstanceId());
            if (existing != null) {
                replaceStaticMember(g, existing, newId, r, callback);
                return;
            }
            if (full(g)) {
                callback.accept(JoinResult.error(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
                return;
            }
            addMemberAndRebalance(g, newId, r, callback);
        } else if (full(g)) {
            callback.accept(JoinResult.error(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
        } else if (r.requireKnownMemberId()) {
            // KIP-394: hand out the id first; the member joins with it, so a lost answer does not leave a ghost.
            g.pendingMembers.put(newId, clock.time() + r.sessionTimeoutMs());
            callback.accept(JoinResult.error(ErrorCode.MEMBER_ID_REQUIRED, newId));
        } else {
            addMemberAndRebalance(g, newId, r, callback);
        }
    }

    private void joinKnownMember(Group g, JoinRequest r, Consumer<JoinResult> callback) {
        String memberId = r.memberId();
        if (g.pendingMembers.remove(memberId) != null) {
            addMemberAndRebalance(g, memberId, r, callback);
            return;
        }
        Member m = g.members.get(memberId);
        if (r.groupInstanceId() != null) {
            Member byInstance = g.memberByInstance(r.groupInstanceId());
            if (byInstance != null && !byInstance.memberId.equals(memberId)) {
                callback.accept(JoinResult.error(ErrorCode.FENCED_INSTANCE_ID, memberId));
                return;
            }
        }
        if (m == null) {
            callback.accept(JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
            return;
        }
        switch (g.state()) {
            case PREPARING_REBALANCE -> updateMemberAndRebalance(g, m, r, callback);
            case COMPLETING_REBALANCE -> {
                if (m.sameProtocols(r.protocols())) {
                    // a lost JoinGroup answer, asked again: the same answer
                    m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                    callback.accept(currentJoinResult(g, m, m.memberId.equals(g.leaderId), false));
                } else {
                    updateMemberAndRebalance(g, m, r, callback);
                }
            }
            case STABLE -> {
                if (m.memberId.equals(g.leaderId) || !m.sameProtocols(r.protocols())) {
                    // the leader rejoining, or a changed subscription: a new generation
                    updateMemberAndRebalance(g, m, r, callback);
                } else {
                    m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                    callback.accept(currentJoinResult(g, m, false, false));
                }
            }
            case EMPTY, DEAD -> callback.accept(JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
        }
    }

    /**
     * KIP-345: a static member restarted with the same group.instance.id takes over its old member's place (a new
     * member id; the old id is fenced). When the group is Stable and its subscription is unchanged, it gets the
     * current generation and its old assignment without a rebalance of the others.
     */
    private void replaceStaticMember(Group g, Member old, String newId, JoinRequest r, Consumer<JoinResult> callback) {
        String oldId = old.memberId;
        if (old.awaitingJoin != null) {
            Consumer<JoinResult> cb = old.awaitingJoin;
            old.awaitingJoin = null;
            cb.accept(JoinResult.error(ErrorCode.FENCED_INSTANCE_ID, oldId));
        }
        if (old.awaitingSync != null) {
            Consumer<SyncResult> cb = old.awaitingSync;
            old.awaitingSync = null;
            cb.accept(SyncResult.error(ErrorCode.FENCED_INSTANCE_ID));
        }
        boolean sameType = old.protocolType.equals(r.protocolType());
        // re-key the member (keeping its place in join order)
        List<Member> order = new ArrayList<>(g.members.values());
        g.members.clear();
        old.memberId = newId;
        for (Member m : order) {
            g.members.put(m.memberId, m);
        }
        g.staticMembers.put(old.groupInstanceId, newId);
        boolean wasLeader = oldId.equals(g.leaderId);
        if (wasLeader) {
            g.leaderId = newId;
        }
        updateMember(old, r);
        // Kafka's rule: the subscription bytes of a restarted consumer differ (no owned partitions yet); what
        // matters is whether the group would pick another protocol now
        boolean unchanged = sameType && g.protocolName != null && g.protocolName.equals(selectProtocol(g));
        if (g.is(GroupState.STABLE) && unchanged) {
            if (wasLeader && !r.supportsSkipAssignment()) {
                // an old client's leader would compute a new assignment anyway: let it, in a new generation
                old.awaitingJoin = callback;
                prepareRebalance(g);
                return;
            }
            old.heartbeatDeadlineMs = clock.time() + old.sessionTimeoutMs;
            callback.accept(currentJoinResult(g, old, wasLeader, wasLeader));
            return;
        }
        old.awaitingJoin = callback;
        maybePrepareRebalance(g);
    }

    private JoinResult currentJoinResult(Group g, Member m, boolean withMembers, boolean skipAssignment) {
        return new JoinResult(ErrorCode.NONE, g.generationId, g.protocolType, g.protocolName, g.leaderId,
            skipAssignment, m.memberId, withMembers ? memberList(g) : List.of());
    }

    private static List<JoinMember> memberList(Group g) {
        List<JoinMember> list = new ArrayList<>(g.members.size());
        for (Member m : g.members.values()) {
            list.add(new JoinMember(m.memberId, m.groupInstanceId, m.metadata(g.protocolName)));
        }
        return list;
    }

    private static void updateMember(Member m, JoinRequest r) {
        m.clientId = r.clientId();
        m.clientHost = r.clientHost();
        m.sessionTimeoutMs = r.sessionTimeoutMs();
        m.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        m.protocolType = r.protocolType();
        m.protocols = List.copyOf(r.protocols());
        m.supportsSkipAssignment = r.supportsSkipAssignment();
    }

    private void addMemberAndRebalance(Group g, String memberId, JoinRequest r, Consumer<JoinResult> callback) {
        Member m = new Member(memberId, r.groupInstanceId());
        updateMember(m, r);
        m.awaitingJoin = callback;
        m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
        if (g.members.isEmpty()) {
            g.protocolType = r.protocolType();
        }
        g.members.put(memberId, m);
        if (m.isStatic()) {
            g.staticMembers.put(m.groupInstanceId, memberId);
        }
        if (g.leaderId == null) {
            g.leaderId = memberId;
        }
        if (g.initialDelayLimitMs >= 0) {
            g.newMemberAddedInDelay = true;
        }
        maybePrepareRebalance(g);
    }

    private void updateMemberAndRebalance(Group g, Member m, JoinRequest r, Consumer<JoinResult> callback) {
        updateMember(m, r);
        if (m.awaitingJoin != null) {
            // the same member asked again (a retry after its client gave up on the first): answer the first now
            Consumer<JoinResult> previous = m.awaitingJoin;
            m.awaitingJoin = null;
            previous.accept(JoinResult.error(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId));
        }
        m.awaitingJoin = callback;
        maybePrepareRebalance(g);
    }

    private void maybePrepareRebalance(Group g) {
        switch (g.state()) {
            case STABLE, COMPLETING_REBALANCE, EMPTY -> prepareRebalance(g);
            case PREPARING_REBALANCE -> tryCompleteJoin(g);
            case DEAD -> {
            }
        }
    }

    private void prepareRebalance(Group g) {
        if (g.is(GroupState.COMPLETING_REBALANCE)) {
            // assignments of the generation being completed are void; waiting SyncGroups learn it now
            for (Member m : g.members.values()) {
                m.assignment = Member.EMPTY;
                if (m.awaitingSync != null) {
                    Consumer<SyncResult> cb = m.awaitingSync;
                    m.awaitingSync = null;
                    cb.accept(SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS));
                }
            }
        }
        boolean wasEmpty = g.is(GroupState.EMPTY);
        long now = clock.time();
        g.transitionTo(GroupState.PREPARING_REBALANCE, now);
        if (wasEmpty) {
            recordGroup(g); // it has members: its offsets do not expire while it has
            g.joinDeadlineMs = now + config.initialRebalanceDelayMs();
            g.initialDelayLimitMs = now + Math.max(config.initialRebalanceDelayMs(), g.maxRebalanceTimeoutMs());
            g.newMemberAddedInDelay = false;
        } else {
            g.joinDeadlineMs = now + g.maxRebalanceTimeoutMs();
            g.initialDelayLimitMs = -1;
            tryCompleteJoin(g);
        }
    }

    private void tryCompleteJoin(Group g) {
        if (g.is(GroupState.PREPARING_REBALANCE) && g.initialDelayLimitMs < 0 && g.allMembersJoined()) {
            completeJoin(g);
        }
    }

    private void completeJoin(Group g) {
        long now = clock.time();
        // members that did not rejoin in time are out of the new generation
        List<Member> late = new ArrayList<>();
        for (Member m : g.members.values()) {
            if (m.awaitingJoin == null) {
                late.add(m);
            }
        }
        for (Member m : late) {
            removeMember(g, m);
        }
        g.joinDeadlineMs = -1;
        g.initialDelayLimitMs = -1;
        g.newMemberAddedInDelay = false;
        g.generationId++;
        rebalances++;
        if (g.members.isEmpty()) {
            g.protocolName = null;
            g.leaderId = null;
            g.transitionTo(GroupState.EMPTY, now);
            recordGroup(g); // retention counts from now
            return;
        }
        g.protocolName = selectProtocol(g);
        if (g.leaderId == null || !g.members.containsKey(g.leaderId)) {
            g.leaderId = g.members.keySet().iterator().next();
        }
        g.transitionTo(GroupState.COMPLETING_REBALANCE, now);
        List<JoinMember> all = memberList(g);
        for (Member m : new ArrayList<>(g.members.values())) {
            Consumer<JoinResult> cb = m.awaitingJoin;
            m.awaitingJoin = null;
            m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
            boolean leader = m.memberId.equals(g.leaderId);
            cb.accept(new JoinResult(ErrorCode.NONE, g.generationId, g.protocolType, g.protocolName, g.leaderId,
                false, m.memberId, leader ? all : List.of()));
        }
    }

    /** Kafka's vote: among the protocols every member supports, each member votes its most preferred one. */
    private static String selectProtocol(Group g) {
        Member first = g.members.values().iterator().next();
        List<String> candidates = new ArrayList<>();
        for (Protocol p : first.protocols) {
            if (supportedByAll(g, p.name())) {
                candidates.add(p.name());
            }
        }
        Map<String, Integer> votes = new HashMap<>();
        for (Member m : g.members.values()) {
            for (Protocol p : m.protocols) {
                if (candidates.contains(p.name())) {
                    votes.merge(p.name(), 1, Integer::sum);
                    break;
                }
            }
        }
        String best = candidates.get(0);
        for (String c : candidates) {
            if (votes.getOrDefault(c, 0) > votes.getOrDefault(best, 0)) {
                best = c;
            }
        }
        return best;
    }

    private void removeMember(Group g, Member m) {
        g.members.remove(m.memberId);
        if (m.isStatic() && m.memberId.equals(g.staticMembers.get(m.groupInstanceId))) {
            g.staticMembers.remove(m.groupInstanceId);
        }
        if (m.memberId.equals(g.leaderId)) {
            // the next leader: one already waiting in JoinGroup if any (it gets the member list), else the oldest
            g.leaderId = null;
            for (Member other : g.members.values()) {
                if (other.awaitingJoin != null) {
                    g.leaderId = other.memberId;
                    break;
                }
            }
            if (g.leaderId == null && !g.members.isEmpty()) {
                g.leaderId = g.members.keySet().iterator().next();
            }
        }
        if (m.awaitingJoin != null) {
            Consumer<JoinResult> cb = m.awaitingJoin;
            m.awaitingJoin = null;
            cb.accept(JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
        }
        if (m.awaitingSync != null) {
            Consumer<SyncResult> cb = m.awaitingSync;
            m.awaitingSync = null;
            cb.accept(SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID));
        }
    }

    private void removeMemberAndUpdateGroup(Group g, Member m) {
        removeMember(g, m);
        switch (g.state()) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(g);
            case PREPARING_REBALANCE -> tryCompleteJoin(g);
            case EMPTY, DEAD -> {
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- SyncGroup

    public void sync(SyncRequest r, Consumer<SyncResult> callback) {
        Group g = r.groupId() == null ? null : groups.get(r.groupId());
        if (g == null) {
            callback.accept(SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID));
            return;
        }
        if (g.is(GroupState.DEAD)) {
            callback.accept(SyncResult.error(ErrorCode.COORDINATOR_NOT_AVAILABLE));
            return;
        }
        Member m = g.members.get(r.memberId());
        ErrorCode fenced = checkInstance(g, r.memberId(), r.groupInstanceId());
        if (fenced != ErrorCode.NONE) {
            callback.accept(SyncResult.error(fenced));
            return;
        }
        if (m == null) {
            callback.accept(SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID));
            return;
        }
        if (r.generationId() != g.generationId) {
            callback.accept(SyncResult.error(ErrorCode.ILLEGAL_GENERATION));
            return;
        }
        if ((r.protocolType() != null && !r.protocolType().equals(g.protocolType))
            || (r.protocolName() != null && !r.protocolName().equals(g.protocolName))) {
            callback.accept(SyncResult.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        switch (g.state()) {
            case EMPTY, DEAD -> callback.accept(SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID));
            case PREPARING_REBALANCE -> callback.accept(SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS));
            case COMPLETING_REBALANCE -> {
                if (m.awaitingSync != null) {
                    Consumer<SyncResult> previous = m.awaitingSync;
                    m.awaitingSync = null;
                    previous.accept(SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS));
                }
                m.awaitingSync = callback;
                m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                if (m.memberId.equals(g.leaderId)) {
                    Map<String, byte[]> assignments = r.assignments() == null ? Map.of() : r.assignments();
                    for (Member each : g.members.values()) {
                        byte[] a = assignments.get(each.memberId);
                        each.assignment = a == null ? Member.EMPTY : a;
                    }
                    g.transitionTo(GroupState.STABLE, clock.time());
                    for (Member each : new ArrayList<>(g.members.values())) {
                        if (each.awaitingSync != null) {
                            Consumer<SyncResult> cb = each.awaitingSync;
                            each.awaitingSync = null;
                            cb.accept(new SyncResult(ErrorCode.NONE, g.protocolType, g.protocolName,
                                each.assignment));
                        }
                    }
                }
            }
            case STABLE -> {
                m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                callback.accept(new SyncResult(ErrorCode.NONE, g.protocolType, g.protocolName, m.assignment));
            }
        }
    }

    /** FENCED_INSTANCE_ID when {@code instanceId} belongs to another member id than {@code memberId}. */
    private static ErrorCode checkInstance(Group g, String memberId, String instanceId) {
        if (instanceId == null) {
            return ErrorCode.NONE;
        }
        String registered = g.staticMembers.get(instanceId);
        if (registered != null && !registered.equals(memberId)) {
            return ErrorCode.FENCED_INSTANCE_ID;
        }
        return ErrorCode.NONE;
    }

    // ---------------------------------------------------------------------------------------------- Heartbeat

    public ErrorCode heartbeat(String groupId, int generationId, String memberId, String groupInstanceId) {
        Group g = groupId == null ? null : groups.get(groupId);
        if (g == null) {
            return ErrorCode.UNKNOWN_MEMBER_ID;
        }
        if (g.is(GroupState.DEAD)) {
            return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        ErrorCode fenced = checkInstance(g, memberId, groupInstanceId);
        if (fenced != ErrorCode.NONE) {
            return fenced;
        }
        Member m = g.members.get(memberId);
        if (m == null) {
            return ErrorCode.UNKNOWN_MEMBER_ID;
        }
        if (generationId != g.generationId) {
            return ErrorCode.ILLEGAL_GENERATION;
        }
        return switch (g.state()) {
            case EMPTY, DEAD -> ErrorCode.UNKNOWN_MEMBER_ID;
            case PREPARING_REBALANCE -> {
                m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                yield ErrorCode.REBALANCE_IN_PROGRESS;
            }
            case COMPLETING_REBALANCE, STABLE -> {
                m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
                yield ErrorCode.NONE;
            }
        };
    }

    // ---------------------------------------------------------------------------------------------- LeaveGroup

    public LeaveResult leave(String groupId, List<MemberIdentity> leaving) {
        List<ErrorCode> errors = new ArrayList<>(leaving.size());
        Group g = groupId == null ? null : groups.get(groupId);
        if (g == null) {
            for (int i = 0; i < leaving.size(); i++) {
                errors.add(ErrorCode.UNKNOWN_MEMBER_ID);
            }
            return new LeaveResult(ErrorCode.NONE, errors);
        }
        if (g.is(GroupState.DEAD)) {
            return new LeaveResult(ErrorCode.COORDINATOR_NOT_AVAILABLE, errors);
        }
        for (MemberIdentity who : leaving) {
            errors.add(leaveOne(g, who));
        }
        return new LeaveResult(ErrorCode.NONE, errors);
    }

    private ErrorCode leaveOne(Group g, MemberIdentity who) {
        String memberId = who.memberId() == null ? "" : who.memberId();
        Member m;
        if (memberId.isEmpty()) {
            // KIP-345 admin removal by group.instance.id
            m = who.groupInstanceId() == null ? null : g.memberByInstance(who.groupInstanceId());
            if (m == null) {
                return ErrorCode.UNKNOWN_MEMBER_ID;
            }
        } else {
            if (g.pendingMembers.remove(memberId) != null) {
                tryCompleteJoin(g);
                return ErrorCode.NONE;
            }
            ErrorCode fenced = checkInstance(g, memberId, who.groupInstanceId());
            if (fenced != ErrorCode.NONE) {
                return fenced;
            }
            m = g.members.get(memberId);
            if (m == null) {
                return ErrorCode.UNKNOWN_MEMBER_ID;
            }
        }
        removeMemberAndUpdateGroup(g, m);
        return ErrorCode.NONE;
    }

    // ---------------------------------------------------------------------------------------------- offsets

    public void commitOffsets(CommitRequest r, Consumer<List<ErrorCode>> callback) {
        List<ErrorCode> errors = new ArrayList<>(r.entries().size());
        ErrorCode groupError = validateCommit(r);
        if (groupError != ErrorCode.NONE) {
            for (int i = 0; i < r.entries().size(); i++) {
                errors.add(groupError);
            }
            callback.accept(errors);
            return;
        }
        Group g = groups.get(r.groupId());
        long now = clock.time();
        long commitTs = r.commitTimestamp() >= 0 ? r.commitTimestamp() : now;
        long expireTs = r.retentionMs() >= 0 ? commitTs + r.retentionMs() : -1;
        for (CommitEntry e : r.entries()) {
            String metadata = e.metadata() == null ? "" : e.metadata();
            if (metadata.getBytes(StandardCharsets.UTF_8).length > config.offsetMetadataMaxBytes()) {
                errors.add(ErrorCode.OFFSET_METADATA_TOO_LARGE);
            } else if (!partitionExists.test(e.tp())) {
                errors.add(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            } else {
                OffsetValue v = new OffsetValue(e.offset(), e.leaderEpoch(), metadata, commitTs, expireTs);
                g.offsets.put(e.tp(), v);
                journal.put(g.groupId, e.tp(), v);
                errors.add(ErrorCode.NONE);
            }
        }
        journal.whenDurable(durable -> {
            if (!durable) {
                errors.replaceAll(err -> err == ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : err);
            }
            callback.accept(errors);
        });
    }

    private ErrorCode validateCommit(CommitRequest r) {
        if (r.groupId() == null || r.groupId().isEmpty()) {
            return ErrorCode.INVALID_GROUP_ID;
        }
        Group g = groups.get(r.groupId());
        if (g == null) {
            if (r.generationId() < 0) {
                // a group that only stores offsets here (assign() with a group.id, admin tools)
                groups.put(r.groupId(), new Group(r.groupId(), clock.time()));
                return ErrorCode.NONE;
            }
            return ErrorCode.ILLEGAL_GENERATION;
        }
        if (g.is(GroupState.DEAD)) {
            return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        if (r.generationId() < 0 && g.is(GroupState.EMPTY)) {
            return ErrorCode.NONE;
        }
        ErrorCode fenced = checkInstance(g, r.memberId(), r.groupInstanceId());
        if (fenced != ErrorCode.NONE) {
            return fenced;
        }
        Member m = g.members.get(r.memberId());
        if (m == null) {
            return ErrorCode.UNKNOWN_MEMBER_ID;
        }
        if (r.generationId() != g.generationId) {
            return ErrorCode.ILLEGAL_GENERATION;
        }
        if (g.is(GroupState.COMPLETING_REBALANCE)) {
            return ErrorCode.REBALANCE_IN_PROGRESS;
        }
        m.heartbeatDeadlineMs = clock.time() + m.sessionTimeoutMs;
        return ErrorCode.NONE;
    }

    /**
     * The committed offsets of {@code partitions} (null: all the group has), answered once nothing it could reflect
     * is still waiting for its fsync.
     */
    public void fetchOffsets(String groupId, List<TopicPartition> partitions, Consumer<FetchResult> callback) {
        Group g = groupId == null ? null : groups.get(groupId);
        List<FetchedOffset> out = new ArrayList<>();
        if (partitions == null) {
            if (g != null) {
                for (Map.Entry<TopicPartition, OffsetValue> e : g.offsets.entrySet()) {
                    OffsetValue v = e.getValue();
                    out.add(new FetchedOffset(e.getKey(), v.offset(), v.leaderEpoch(), v.metadata(), ErrorCode.NONE));
                }
            }
        } else {
            for (TopicPartition tp : partitions) {
                OffsetValue v = g == null ? null : g.offsets.get(tp);
                out.add(v == null ? new FetchedOffset(tp, -1L, -1, "", ErrorCode.NONE)
                    : new FetchedOffset(tp, v.offset(), v.leaderEpoch(), v.metadata(), ErrorCode.NONE));
            }
        }
        FetchResult result = new FetchResult(ErrorCode.NONE, out);
        journal.whenDurable(durable -> callback.accept(durable ? result
            : new FetchResult(ErrorCode.COORDINATOR_NOT_AVAILABLE, List.of())));
    }

    // ---------------------------------------------------------------------------------------------- admin

    /** Groups, filtered by state names and protocol types (empty filter: all). */
    public List<GroupListing> listGroups(Collection<String> states, Collection<String> types) {
        List<GroupListing> out = new ArrayList<>();
        for (Group g : new TreeMap<>(groups).values()) {
            if (g.is(GroupState.DEAD)) {
                continue;
            }
            if (states != null && !states.isEmpty() && !containsIgnoreCase(states, g.state().wireName)) {
                continue;
            }
            String type = g.protocolType == null ? "" : g.protocolType;
            if (types != null && !types.isEmpty() && !containsIgnoreCase(types, type)) {
                continue;
            }
            out.add(new GroupListing(g.groupId, type, g.state().wireName));
        }
        return out;
    }

    private static boolean containsIgnoreCase(Collection<String> values, String s) {
        for (String v : values) {
            if (v != null && v.equalsIgnoreCase(s)) {
                return true;
            }
        }
        return false;
    }

    public List<GroupDescription> describeGroups(List<String> groupIds) {
        List<GroupDescription> out = new ArrayList<>(groupIds.size());
        for (String id : groupIds) {
            Group g = id == null ? null : groups.get(id);
            if (g == null || g.is(GroupState.DEAD)) {
                out.add(new GroupDescription(id, ErrorCode.NONE, GroupState.DEAD.wireName, "", "", List.of()));
                continue;
            }
            boolean stable = g.is(GroupState.STABLE);
            List<MemberDescription> members = new ArrayList<>();
            for (Member m : g.members.values()) {
                byte[] metadata = stable ? m.metadata(g.protocolName) : null;
                members.add(new MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    metadata == null ? Member.EMPTY : metadata, stable ? m.assignment : Member.EMPTY));
            }
            out.add(new GroupDescription(g.groupId, ErrorCode.NONE, g.state().wireName,
                g.protocolType == null ? "" : g.protocolType,
                stable && g.protocolName != null ? g.protocolName : "", members));
        }
        return out;
    }

    /** Deletes empty groups with their offsets; answered once the deletions are durable. */
    public void deleteGroups(List<String> groupIds, Consumer<List<ErrorCode>> callback) {
        List<ErrorCode> errors = new ArrayList<>(groupIds.size());
        for (String id : groupIds) {
            Group g = id == null ? null : groups.get(id);
            if (g == null || g.is(GroupState.DEAD)) {
                errors.add(ErrorCode.GROUP_ID_NOT_FOUND);
            } else if (!g.is(GroupState.EMPTY) || !g.pendingMembers.isEmpty()) {
                errors.add(ErrorCode.NON_EMPTY_GROUP);
            } else {
                for (TopicPartition tp : g.offsets.keySet()) {
                    journal.delete(g.groupId, tp);
                }
                g.offsets.clear();
                removeGroup(g, clock.time());
                errors.add(ErrorCode.NONE);
            }
        }
        journal.whenDurable(durable -> {
            if (!durable) {
                errors.replaceAll(err -> err == ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : err);
            }
            callback.accept(errors);
        });
    }

    /** OffsetDelete: refused for a topic the group's members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC). */
    public void deleteOffsets(String groupId, List<TopicPartition> partitions, Consumer<DeleteOffsetsResult> callback) {
        Group g = groupId == null ? null : groups.get(groupId);
        if (g == null || g.is(GroupState.DEAD)) {
            callback.accept(new DeleteOffsetsResult(ErrorCode.GROUP_ID_NOT_FOUND, Map.of()));
            return;
        }
        Set<String> subscribed = Set.of();
        if (!g.is(GroupState.EMPTY)) {
            if (!"consumer".equals(g.protocolType)) {
                callback.accept(new DeleteOffsetsResult(ErrorCode.NON_EMPTY_GROUP, Map.of()));
                return;
            }
            subscribed = ConsumerProtocol.subscribedTopics(g);
        }
        Map<TopicPartition, ErrorCode> result = new java.util.LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            if (subscribed.contains(tp.topic())) {
                result.put(tp, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
            } else {
                if (g.offsets.remove(tp) != null) {
                    journal.delete(g.groupId, tp);
                }
                result.put(tp, ErrorCode.NONE);
            }
        }
        journal.whenDurable(durable -> callback.accept(durable ? new DeleteOffsetsResult(ErrorCode.NONE, result)
            : new DeleteOffsetsResult(ErrorCode.COORDINATOR_NOT_AVAILABLE, Map.of())));
    }

    /** Removes every group's offsets of these topics (the topics were deleted). */
    public void onTopicsDeleted(Collection<String> topics) {
        for (Group g : groups.values()) {
            Iterator<Map.Entry<TopicPartition, OffsetValue>> it = g.offsets.entrySet().iterator();
            while (it.hasNext()) {
                TopicPartition tp = it.next().getKey();
                if (topics.contains(tp.topic())) {
                    it.remove();
                    journal.delete(g.groupId, tp);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- time

    /** Runs what has come due: rebalance and initial-delay deadlines, expired sessions and pending ids, expiry. */
    public void tick() {
        long now = clock.time();
        for (Group g : new ArrayList<>(groups.values())) {
            Iterator<Map.Entry<String, Long>> pending = g.pendingMembers.entrySet().iterator();
            boolean pendingExpired = false;
            while (pending.hasNext()) {
                if (now >= pending.next().getValue()) {
                    pending.remove();
                    pendingExpired = true;
                }
            }
            if (pendingExpired) {
                tryCompleteJoin(g);
            }
            for (Member m : new ArrayList<>(g.members.values())) {
                // a member waiting in JoinGroup is kept until the rebalance completes (its timeout ends it)
                if (g.members.get(m.memberId) == m && m.awaitingJoin == null && now >= m.heartbeatDeadlineMs) {
                    removeMemberAndUpdateGroup(g, m);
                }
            }
            if (g.is(GroupState.PREPARING_REBALANCE) && g.joinDeadlineMs >= 0 && now >= g.joinDeadlineMs) {
                if (g.initialDelayLimitMs >= 0 && g.newMemberAddedInDelay && now < g.initialDelayLimitMs) {
                    g.newMemberAddedInDelay = false;
                    g.joinDeadlineMs = Math.min(now + config.initialRebalanceDelayMs(), g.initialDelayLimitMs);
                } else {
                    completeJoin(g);
                }
            }
        }
        if (now >= nextExpiryCheckMs) {
            nextExpiryCheckMs = now + config.retentionCheckIntervalMs();
            expireOffsets(now);
        }
    }

    /**
     * Kafka's rule (KIP-211, and its GroupCoordinator's offset expiration condition):
     * <ul>
     *   <li>an Empty group that had members: every offset expires {@code offsets.retention} after the group became
     *       Empty;
     *   <li>a group that never had members (it only commits: assign() users, tools): each offset
     *       {@code offsets.retention} after its commit;
     *   <li>a Stable "consumer" group whose subscriptions can be read: the offsets of topics no member subscribes to,
     *       {@code offsets.retention} after their commit; those of subscribed topics never;
     *   <li>any other group (rebalancing, another protocol type, unreadable subscriptions): none.
     * </ul>
     * An explicit v2-v4 retention time replaces the rule's deadline. An Empty group with no offsets left is removed
     * (Dead). Deletions are journaled (a restart does not bring them back).
     */
    void expireOffsets(long now) {
        for (Group g : new ArrayList<>(groups.values())) {
            boolean byCommitTime;
            Set<String> kept;
            if (g.protocolType == null) {
                byCommitTime = true;
                kept = Set.of();
            } else if (g.is(GroupState.EMPTY)) {
                byCommitTime = false;
                kept = Set.of();
            } else if (g.is(GroupState.STABLE) && "consumer".equals(g.protocolType)
                && (kept = ConsumerProtocol.subscribedTopicsIfKnown(g)) != null) {
                byCommitTime = true;
            } else {
                continue;
            }
            Iterator<Map.Entry<TopicPartition, OffsetValue>> offsets = g.offsets.entrySet().iterator();
            while (offsets.hasNext()) {
                Map.Entry<TopicPartition, OffsetValue> e = offsets.next();
                if (kept.contains(e.getKey().topic())) {
                    continue;
                }
                OffsetValue v = e.getValue();
                boolean expired;
                if (v.expireTimestamp() >= 0) {
                    expired = now >= v.expireTimestamp();
                } else {
                    long base = byCommitTime ? v.commitTimestamp() : g.stateSinceMs;
                    expired = now - base >= config.offsetsRetentionMs();
                }
                if (expired) {
                    offsets.remove();
                    journal.delete(g.groupId, e.getKey());
                }
            }
            if (g.is(GroupState.EMPTY) && g.offsets.isEmpty() && g.members.isEmpty() && g.pendingMembers.isEmpty()) {
                removeGroup(g, now);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- inspection

    /** The group's state, or null when there is no such group (tests, metrics). */
    public GroupState state(String groupId) {
        Group g = groups.get(groupId);
        return g == null ? null : g.state();
    }

    public int generation(String groupId) {
        Group g = groups.get(groupId);
        return g == null ? -1 : g.generationId;
    }

    public int groupCount() {
        return groups.size();
    }

    /** The member ids of the group, in join order (empty when there is no such group). */
    public List<String> memberIds(String groupId) {
        Group g = groups.get(groupId);
        return g == null ? List.of() : new ArrayList<>(g.members.keySet());
    }

    /** Members over every group (metrics). */
    public int memberCount() {
        int n = 0;
        for (Group g : groups.values()) {
            n += g.members.size();
        }
        return n;
    }
}
