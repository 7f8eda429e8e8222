package io.idemlog.server.group;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** One group: its state, generation, members and committed offsets. Coordinator thread only. */
final class Group {
    final String groupId;
    private GroupState state = GroupState.EMPTY;
    long stateSinceMs;
    int generationId;
    /** Null until the first member joins (a group that only commits offsets, e.g. assign() users, has none). */
    String protocolType;
    String protocolName;
    String leaderId;
    /** By member id, in join order (the first is the leader's successor when the leader leaves). */
    final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    /** group.instance.id -> member id of the static members. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, not joined yet -> when they expire. */
    final LinkedHashMap<String, Long> pendingMembers = new LinkedHashMap<>();
    /** When the pending rebalance completes whoever has rejoined by then (PreparingRebalance), else -1. */
    long joinDeadlineMs = -1;
    /** Initial delay (the group was empty): the latest the delay may be extended to; -1 outside it. */
    long initialDelayLimitMs = -1;
    boolean newMemberAddedInDelay;
    /** Committed offsets, sorted (describe and fetch-all list them in order; replay order does not matter). */
    final TreeMap<TopicPartition, OffsetValue> offsets = new TreeMap<>();
    /** The last group record journaled for it (null: none; a group that only commits offsets never has one). */
    OffsetJournal.GroupRecord recorded;

    Group(String groupId, long nowMs) {
        this.groupId = groupId;
        this.stateSinceMs = nowMs;
    }

    GroupState state() {
        return state;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    /** The one way a state changes: refuses a transition Kafka's state machine does not have. */
    void transitionTo(GroupState next, long nowMs) {
        if (!next.canFollow(state)) {
            throw new IllegalStateException("group " + groupId + ": illegal transition " + state + " -> " + next);
        }
        state = next;
        stateSinceMs = nowMs;
    }

    int awaitingJoinCount() {
        int n = 0;
        for (Member m : members.values()) {
            if (m.awaitingJoin != null) {
                n++;
            }
        }
        return n;
    }

    boolean allMembersJoined() {
        return pendingMembers.isEmpty() && awaitingJoinCount() == members.size();
    }

    int maxRebalanceTimeoutMs() {
        int max = 0;
        for (Member m : members.values()) {
            max = Math.max(max, m.rebalanceTimeoutMs);
        }
        return max;
    }

    Member memberByInstance(String instanceId) {
        String id = staticMembers.get(instanceId);
        return id == null ? null : members.get(id);
    }
}
