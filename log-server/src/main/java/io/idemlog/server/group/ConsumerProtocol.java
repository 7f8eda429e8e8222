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
