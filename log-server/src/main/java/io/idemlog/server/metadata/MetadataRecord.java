package io.idemlog.server.metadata;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * One change of the topic metadata: the unit that is written durably, replayed on start, and (later) replicated.
 * Applying a record is deterministic ({@link TopicsImage#apply}): the same records give the same state. Records name
 * topics by id, except the one that creates a topic. Config maps are written sorted, so equal states encode
 * equally.
 */
public sealed interface MetadataRecord {
    byte TOPIC_CREATED = 1;
    byte PARTITIONS_ADDED = 2;
    byte CONFIGS_REPLACED = 3;
    byte TOPIC_DELETED = 4;

    /** A new topic with its id, partition count and topic-level config overrides. */
    record TopicCreated(String name, UUID id, int partitions, Map<String, String> configs)
        implements MetadataRecord {
        public TopicCreated {
            configs = Map.copyOf(configs);
        }
    }

    /** The topic now has {@code partitions} partitions (more than before). */
    record PartitionsAdded(UUID id, int partitions) implements MetadataRecord {
    }

    /** The topic's config overrides are now exactly {@code configs}. */
    record ConfigsReplaced(UUID id, Map<String, String> configs) implements MetadataRecord {
        public ConfigsReplaced {
            configs = Map.copyOf(configs);
        }
    }

    /** The topic is gone. */
    record TopicDeleted(UUID id) implements MetadataRecord {
    }

    /** The record's bytes: type, then its fields. */
    default byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (true) {
            try {
                b.clear();
                encodeTo(b);
                byte[] out = new byte[b.position()];
                b.flip().get(out);
                return out;
            } catch (java.nio.BufferOverflowException e) {
                if (b.capacity() > (64 << 20)) {
                    throw new IllegalArgumentException("metadata record too large");
                }
                b = ByteBuffer.allocate(b.capacity() * 4);
            }
        }
    }

    private void encodeTo(ByteBuffer b) {
        if (this instanceof TopicCreated t) {
            b.put(TOPIC_CREATED);
            putString(b, t.name());
            putUuid(b, t.id());
            b.putInt(t.partitions());
            putMap(b, t.configs());
        } else if (this instanceof PartitionsAdded p) {
            b.put(PARTITIONS_ADDED);
            putUuid(b, p.id());
            b.putInt(p.partitions());
        } else if (this instanceof ConfigsReplaced c) {
            b.put(CONFIGS_REPLACED);
            putUuid(b, c.id());
            putMap(b, c.configs());
        } else if (this instanceof TopicDeleted d) {
            b.put(TOPIC_DELETED);
            putUuid(b, d.id());
        }
    }

    /**
     * Decodes one record from exactly {@code b}'s remaining bytes.
     *
     * @throws IllegalArgumentException when the bytes are not a record (unknown type, truncated, trailing bytes)
     */
    static MetadataRecord decode(ByteBuffer b) {
        try {
            byte type = b.get();
            MetadataRecord r = switch (type) {
                case TOPIC_CREATED -> new TopicCreated(getString(b), getUuid(b), b.getInt(), getMap(b));
                case PARTITIONS_ADDED -> new PartitionsAdded(getUuid(b), b.getInt());
                case CONFIGS_REPLACED -> new ConfigsReplaced(getUuid(b), getMap(b));
                case TOPIC_DELETED -> new TopicDeleted(getUuid(b));
                default -> throw new IllegalArgumentException("unknown record type " + type);
            };
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " bytes after the record");
            }
            return r;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated record");
        }
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putInt(bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad string length " + n);
        }
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void putUuid(ByteBuffer b, UUID id) {
        b.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
    }

    private static UUID getUuid(ByteBuffer b) {
        return new UUID(b.getLong(), b.getLong());
    }

    private static void putMap(ByteBuffer b, Map<String, String> m) {
        b.putInt(m.size());
        for (Map.Entry<String, String> e : new TreeMap<>(m).entrySet()) {
            putString(b, e.getKey());
            putString(b, e.getValue());
        }
    }

    private static Map<String, String> getMap(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining() / 8) {
            throw new IllegalArgumentException("bad map size " + n);
        }
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            m.put(getString(b), getString(b));
        }
        return m;
    }
}
