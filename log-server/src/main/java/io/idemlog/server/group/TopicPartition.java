package io.idemlog.server.group;

/** A partition named by topic and index: the key of a committed offset (with the group). */
public record TopicPartition(String topic, int partition) implements Comparable<TopicPartition> {
    @Override
    public int compareTo(TopicPartition o) {
        int c = topic.compareTo(o.topic);
        return c != 0 ? c : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
