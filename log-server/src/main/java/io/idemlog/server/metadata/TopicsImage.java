package io.idemlog.server.metadata;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The topic metadata as the records made it: the deterministic state machine of the metadata log. {@link #apply}
 * is a pure function of the state and the record (no clock, no I/O, no randomness: ids are in the records), so a
 * replicated log applying the same records on every node gets the same image. Not thread-safe: the
 * {@link MetadataStore} serialises access.
 */
public final class TopicsImage {
    /** One topic. */
    public record Topic(String name, UUID id, int partitions, Map<String, String> configs) {
        public Topic {
            configs = Map.copyOf(configs);
        }
    }

    private final Map<String, Topic> byName = new TreeMap<>();
    private final Map<UUID, Topic> byId = new HashMap<>();

    /**
     * Applies one record.
     *
     * @throws IllegalStateException when the record does not fit the state (a name or id already in use, an
     *                               unknown id, fewer partitions than before): a log that produced it is damaged
     */
    public void apply(MetadataRecord record) {
        if (record instanceof MetadataRecord.TopicCreated t) {
            if (byName.containsKey(t.name()) || byId.containsKey(t.id())) {
                throw new IllegalStateException("topic " + t.name() + " / " + t.id() + " already exists");
            }
            if (t.partitions() < 1) {
                throw new IllegalStateException("topic " + t.name() + " with " + t.partitions() + " partitions");
            }
            put(new Topic(t.name(), t.id(), t.partitions(), t.configs()));
        } else if (record instanceof MetadataRecord.PartitionsAdded p) {
            Topic old = require(p.id());
            if (p.partitions() <= old.partitions()) {
                throw new IllegalStateException("topic " + old.name() + " cannot go from " + old.partitions()
                    + " to " + p.partitions() + " partitions");
            }
            put(new Topic(old.name(), old.id(), p.partitions(), old.configs()));
        } else if (record instanceof MetadataRecord.ConfigsReplaced c) {
            Topic old = require(c.id());
            put(new Topic(old.name(), old.id(), old.partitions(), c.configs()));
        } else if (record instanceof MetadataRecord.TopicDeleted d) {
            Topic old = require(d.id());
            byName.remove(old.name());
            byId.remove(old.id());
        }
    }

    private Topic require(UUID id) {
        Topic t = byId.get(id);
        if (t == null) {
            throw new IllegalStateException("no topic with id " + id);
        }
        return t;
    }

    private void put(Topic t) {
        byName.put(t.name(), t);
        byId.put(t.id(), t);
    }

    public Topic topic(String name) {
        return byName.get(name);
    }

    public Topic topic(UUID id) {
        return byId.get(id);
    }

    /** Every topic by name (a read-only view: copy it before the next apply if it must stay stable). */
    public Map<String, Topic> topics() {
        return Collections.unmodifiableMap(byName);
    }
}
