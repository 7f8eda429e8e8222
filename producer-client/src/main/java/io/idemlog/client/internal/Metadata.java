package io.idemlog.client.internal;

import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerException;
import io.idemlog.client.ProducerTimeoutException;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the producer knows of the cluster, and when to ask again.
 *
 * <p>The I/O thread asks (on start, when a send waits for an unknown topic, after NOT_LEADER_OR_FOLLOWER and
 * similar errors, after a lost connection, and at least every {@code metadata.max.age.ms}) and publishes each
 * answer as a new immutable {@link Cluster}. Application threads read the snapshot lock-free; a send() for a topic
 * not in it registers the topic and waits on this object's monitor, up to {@code max.block.ms}.
 */
public final class Metadata {
    private final List<Node> bootstrap;
    private final long maxAgeMs;
    private final long backoffMs;
    private final Set<String> topics = ConcurrentHashMap.newKeySet();
    private final Object monitor = new Object();
    private volatile Cluster cluster = Cluster.EMPTY;
    private volatile boolean updateRequested = true;
    // I/O thread only.
    private long lastSuccessMs = Long.MIN_VALUE / 2;
    private long lastAttemptMs = Long.MIN_VALUE / 2;
    private boolean inFlight;

    public Metadata(List<Node> bootstrap, long maxAgeMs, long backoffMs) {
        this.bootstrap = List.copyOf(bootstrap);
        this.maxAgeMs = maxAgeMs;
        this.backoffMs = backoffMs;
    }

    /** Nodes for host:port strings, with ids -1, -2, ... */
    public static List<Node> bootstrapNodes(List<String> hostPorts) {
        List<Node> nodes = new ArrayList<>();
        int id = -1;
        for (String hp : hostPorts) {
            int colon = hp.lastIndexOf(':');
            nodes.add(new Node(id--, hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
        }
        return nodes;
    }

    public Cluster cluster() {
        return cluster;
    }

    public List<Node> bootstrap() {
        return bootstrap;
    }

    /** Adds topics to ask about; for tests and for callers that know their topics in advance. */
    public void addTopic(String topic) {
        if (topics.add(topic)) {
            updateRequested = true;
        }
    }

    /** Asks the I/O thread for fresh metadata at its next step (after the retry backoff). */
    public void requestUpdate() {
        updateRequested = true;
    }

    public boolean updateRequested() {
        return updateRequested;
    }

    /**
     * The topic's partitions, waiting (application thread) until metadata has them or the deadline passes.
     *
     * @param wakeup wakes the I/O thread so that it asks
     */
    public Cluster.TopicInfo awaitTopic(String topic, long deadlineNanos, long maxBlockMs, Runnable wakeup)
        throws InterruptedException {
        Cluster.TopicInfo t = cluster.topic(topic);
        if (t != null && t.errorCode == 0 && t.partitionCount() > 0) {
            return t;
        }
        if (topics.add(topic) || !updateRequested) {
            updateRequested = true;
        }
        wakeup.run();
        synchronized (monitor) {
            while (true) {
                t = cluster.topic(topic);
                if (t != null && t.partitionCount() > 0 && t.errorCode == 0) {
                    return t;
                }
                if (t != null && isFatalTopicError(t.errorCode)) {
                    ErrorCode e = ErrorCode.forCode(t.errorCode);
                    throw new ProducerException("topic " + topic + ": " + e + " (" + e.message + ")");
                }
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    throw new ProducerTimeoutException("Topic " + topic + " not present in metadata after "
                        + maxBlockMs + " ms (" + ProducerConfig.MAX_BLOCK_MS + ")"
                        + (t != null ? "; last error " + ErrorCode.forCode(t.errorCode) : ""), false);
                }
                if (!updateRequested) {
                    updateRequested = true;
                    wakeup.run();
                }
                monitor.wait(Math.max(1, remaining / 1_000_000));
            }
        }
    }

    private static boolean isFatalTopicError(short code) {
        return code == ErrorCode.TOPIC_AUTHORIZATION_FAILED.code || code == ErrorCode.INVALID_TOPIC_EXCEPTION.code;
    }

    /** I/O thread: whether a Metadata request should go out now. */
    public boolean shouldRequest(long nowMs) {
        return !inFlight && nowMs >= nextRequestMs();
    }

    /** I/O thread: when the next request is due (for scheduling). */
    public long nextRequestMs() {
        if (inFlight) {
            return Long.MAX_VALUE;
        }
        long due = updateRequested ? lastAttemptMs + backoffMs : lastSuccessMs + maxAgeMs;
        return Math.max(due, lastAttemptMs + backoffMs);
    }

    /** I/O thread: the request to send (records the attempt). */
    public MetadataRequest newRequest(long nowMs) {
        inFlight = true;
        lastAttemptMs = nowMs;
        updateRequested = false;
        MetadataRequest r = new MetadataRequest();
        r.topics = new ArrayList<>(topics);
        // Same as kafka-clients' producer (allow.auto.create.topics=true): the server decides.
        r.allowAutoTopicCreation = true;
        return r;
    }

    /** I/O thread: the request failed (lost connection, timeout). */
    public void onFailure(long nowMs) {
        inFlight = false;
        updateRequested = true;
    }

    /** I/O thread: publishes an answer; returns the new snapshot. */
    public Cluster onResponse(MetadataResponse response, long nowMs) {
        inFlight = false;
        lastSuccessMs = nowMs;
        Map<Integer, Node> nodes = new HashMap<>();
        for (MetadataResponse.Broker b : response.brokers) {
            nodes.put(b.nodeId, new Node(b.nodeId, b.host, b.port));
        }
        Map<String, Cluster.TopicInfo> known = new HashMap<>();
        boolean incomplete = false;
        for (MetadataResponse.Topic t : response.topics) {
            if (t.errorCode == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code) {
                incomplete = true;
                continue;
            }
            if (t.errorCode != 0) {
                incomplete = true;
                known.put(t.name, new Cluster.TopicInfo(t.name, t.errorCode, new int[0]));
                continue;
            }
            int count = 0;
            for (MetadataResponse.Partition p : t.partitions) {
                count = Math.max(count, p.partitionIndex + 1);
            }
            int[] leaders = new int[count];
            java.util.Arrays.fill(leaders, -1);
            for (MetadataResponse.Partition p : t.partitions) {
                if (p.errorCode == 0 && p.leaderId >= 0 && nodes.containsKey(p.leaderId)) {
                    leaders[p.partitionIndex] = p.leaderId;
                } else {
                    incomplete = true;
                }
            }
            known.put(t.name, new Cluster.TopicInfo(t.name, (short) 0, leaders));
        }
        // A topic asked about that the answer does not mention stays unknown.
        Cluster next = new Cluster(nodes, known);
        cluster = next;
        if (incomplete) {
            // Unknown topics, leaderless partitions: ask again after the backoff.
            updateRequested = true;
        }
        synchronized (monitor) {
            monitor.notifyAll();
        }
        return next;
    }

    /** Installs a snapshot directly: for tests that have no server to ask. */
    public void setClusterForTest(Cluster c, long nowMs) {
        cluster = c;
        lastSuccessMs = nowMs;
        updateRequested = false;
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /** Wakes send() callers waiting for a topic (on close or a fatal error, so that they fail fast). */
    public void wakeWaiters() {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }
}
