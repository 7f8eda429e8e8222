package io.idemlog.server.group;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads the topics out of a "consumer" protocol subscription (ConsumerProtocolSubscription v0-v3: int16 version,
 * then an array of topic names, whatever follows), for OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC check. The
 * coordinator never needs anything else from the opaque metadata.
 */
final class ConsumerProtocol {
    private ConsumerProtocol() {
    }

    static Set<String> subscribedTopics(Group g) {
        Set<String> topics = new HashSet<>();
        for (Member m : g.members.values()) {
            byte[] metadata = g.protocolName == null ? null : m.metadata(g.protocolName);
            if (metadata == null && !m.protocols.isEmpty()) {
                metadata = m.protocols.get(0).metadata();
            }
            if (metadata != null) {
                topics.addAll(topics(metadata));
            }
        }
        return topics;
    }

    /**
     * The topics the members subscribe to, from their subscriptions for the group's selected protocol; null when
     * that is not known (no protocol selected, or a subscription that cannot be read), as Kafka's
     * computeSubscribedTopics: then no offset expires by subscription.
     */
    static Set<String> subscribedTopicsIfKnown(Group g) {
        if (g.protocolName == null) {
            return null;
        }
        Set<String> topics = new HashSet<>();
        for (Member m : g.members.values()) {
            byte[] metadata = m.metadata(g.protocolName);
            Set<String> one = metadata == null ? null : topicsStrict(metadata);
            if (one == null) {
                return null;
            }
            topics.addAll(one);
        }
        return topics;
    }

    /** The topic names of one subscription, or null when it cannot be read whole (what follows them is ignored). */
    static Set<String> topicsStrict(byte[] metadata) {
        ByteBuffer b = ByteBuffer.wrap(metadata);
        try {
            short version = b.getShort();
            int n = b.getInt();
            if (version < 0 || n < 0 || n > b.remaining() / 2) {
                return null;
            }
            Set<String> topics = new HashSet<>();
            for (int i = 0; i < n; i++) {
                int len = b.getShort();
                if (len < 0 || len > b.remaining()) {
                    return null;
                }
                byte[] name = new byte[len];
                b.get(name);
                topics.add(new String(name, StandardCharsets.UTF_8));
            }
            return topics;
        } catch (BufferUnderflowException e) {
            return null;
        }
    }

    /** The topic names of one subscription; an unreadable one gives what could be read (never throws). */
    static Set<String> topics(byte[] metadata) {
        Set<String> topics = new HashSet<>();
        ByteBuffer b = ByteBuffer.wrap(metadata);
        try {
            b.getShort();
            int n = b.getInt();
            for (int i = 0; i < n && i < 100_000; i++) {
                int len = b.getShort();
                if (len < 0 || len > b.remaining()) {
                    break;
                }
                byte[] name = new byte[len];
                b.get(name);
                topics.add(new String(name, StandardCharsets.UTF_8));
            }
        } catch (BufferUnderflowException e) {
            // a truncated subscription: the topics read so far
        }
        return topics;
    }
}
