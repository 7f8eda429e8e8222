package io.idemlog.server.group;

import java.util.EnumSet;
import java.util.Set;

/**
 * The classic consumer-group states, as Kafka's GroupMetadata defines them, with the one transition check
 * ({@link #canFollow}) that every state change goes through.
 *
 * <pre>
 *   Empty -----------> PreparingRebalance <----------------------+
 *     ^                  |         ^                              |
 *     | (all left)       |         | (member joins/leaves/expires)|
 *     +------------------+         |                              |
 *                        v         |                              |
 *                 CompletingRebalance ---(leader's SyncGroup)---> Stable
 *   any state ---> Dead (group deleted, or emptied and expired)
 * </pre>
 */
public enum GroupState {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    /** The name Kafka uses on the wire (DescribeGroups, ListGroups) and in its tools. */
    public final String wireName;

    GroupState(String wireName) {
        this.wireName = wireName;
    }

    private Set<GroupState> validPrevious() {
        return switch (this) {
            case EMPTY -> EnumSet.of(PREPARING_REBALANCE);
            case PREPARING_REBALANCE -> EnumSet.of(STABLE, COMPLETING_REBALANCE, EMPTY);
            case COMPLETING_REBALANCE -> EnumSet.of(PREPARING_REBALANCE);
            case STABLE -> EnumSet.of(COMPLETING_REBALANCE);
            case DEAD -> EnumSet.allOf(GroupState.class);
        };
    }

    /** Whether a group in {@code previous} may move to this state. */
    public boolean canFollow(GroupState previous) {
        return validPrevious().contains(previous);
    }

    /** The state with this wire name (case-insensitive, as ListGroups' states filter), or null. */
    public static GroupState forWireName(String name) {
        for (GroupState s : values()) {
            if (s.wireName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        return null;
    }
}
