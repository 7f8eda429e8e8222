package io.idemlog.server.group;

import java.util.List;
import java.util.function.Consumer;

/** One member of a group, as the coordinator sees it. Coordinator thread only. */
final class Member {
    static final byte[] EMPTY = new byte[0];

    String memberId;
    final String groupInstanceId;
    String clientId;
    String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    String protocolType;
    /** The protocols it supports, in its order of preference. */
    List<GroupCoordinator.Protocol> protocols;
    byte[] assignment = EMPTY;
    /** Set while its JoinGroup waits for the rebalance to complete. */
    Consumer<GroupCoordinator.JoinResult> awaitingJoin;
    /** Set while its SyncGroup waits for the leader's assignment. */
    Consumer<GroupCoordinator.SyncResult> awaitingSync;
    boolean supportsSkipAssignment;
    long heartbeatDeadlineMs;

    Member(String memberId, String groupInstanceId) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
    }

    boolean isStatic() {
        return groupInstanceId != null;
    }

    byte[] metadata(String protocolName) {
        for (GroupCoordinator.Protocol p : protocols) {
            if (p.name().equals(protocolName)) {
                return p.metadata();
            }
        }
        return null;
    }

    boolean sameProtocols(List<GroupCoordinator.Protocol> other) {
        if (other.size() != protocols.size()) {
            return false;
        }
        for (int i = 0; i < other.size(); i++) {
            GroupCoordinator.Protocol a = protocols.get(i);
            GroupCoordinator.Protocol b = other.get(i);
            if (!a.name().equals(b.name()) || !java.util.Arrays.equals(a.metadata(), b.metadata())) {
                return false;
            }
        }
        return true;
    }
}
