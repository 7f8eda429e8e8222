package io.idemlog.client.internal;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of what metadata said: the nodes and, per topic, the leader of each partition. Replaced
 * as a whole on every update, so application threads read it without locks.
 */
public final class Cluster {
    /** A topic's partitions and their leaders. */
    public static final class TopicInfo {
        public final String name;
        /** 0 when the topic is known; else the topic-level error code of the last answer. */
        public final short errorCode;
        private final int[] leaders;

        public TopicInfo(String name, short errorCode, int[] leaders) {
            this.name = name;
            this.errorCode = errorCode;
            this.leaders = leaders;
        }

        public int partitionCount() {
            return leaders.length;
        }

        /** The leader's node id, or -1 when the partition has no leader (or does not exist). */
        public int leader(int partition) {
            return partition >= 0 && partition < leaders.length ? leaders[partition] : -1;
        }

        @Override
        public String toString() {
            return name + (errorCode != 0 ? "(error " + errorCode + ")" : "") + Arrays.toString(leaders);
        }
    }

    public static final Cluster EMPTY = new Cluster(Map.of(), Map.of());

    private final Map<Integer, Node> nodes;
    private final Map<String, TopicInfo> topics;

    public Cluster(Map<Integer, Node> nodes, Map<String, TopicInfo> topics) {
        this.nodes = Collections.unmodifiableMap(new HashMap<>(nodes));
        this.topics = Collections.unmodifiableMap(new HashMap<>(topics));
    }

    /** A cluster with the given nodes and topics: handy for tests. */
    public static Cluster of(List<Node> nodes, List<TopicInfo> topics) {
        Map<Integer, Node> n = new HashMap<>();
        nodes.forEach(node -> n.put(node.id(), node));
        Map<String, TopicInfo> t = new HashMap<>();
        topics.forEach(topic -> t.put(topic.name, topic));
        return new Cluster(n, t);
    }

    public Node node(int id) {
        return nodes.get(id);
    }

    public Map<Integer, Node> nodes() {
        return nodes;
    }

    public TopicInfo topic(String name) {
        return topics.get(name);
    }

    public Map<String, TopicInfo> topics() {
        return topics;
    }

    /** The leader of a partition, or null when unknown. */
    public Node leader(String topic, int partition) {
        TopicInfo t = topics.get(topic);
        if (t == null) {
            return null;
        }
        int id = t.leader(partition);
        return id < 0 ? null : nodes.get(id);
    }

    @Override
    public String toString() {
        return "Cluster(nodes=" + nodes.values() + ", topics=" + topics.values() + ")";
    }
}
