package io.idemlog.client.internal;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.ProduceRequest;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A hand-driven {@link Transport}: nodes are ready unless a test says otherwise, sent requests are recorded, and
 * the test answers them (in order per node), drops connections, or lets them time out. Record batch bytes are
 * copied when sent, so a test can compare what went on the wire across retries.
 */
final class MockTransport implements Transport {
    /** A request the sender handed over, with the batch bytes as they were at that moment. */
    record Sent(int nodeId, int correlationId, ApiKey api, short version, Message body, List<byte[]> batches) {
        ProduceRequest produce() {
            return (ProduceRequest) body;
        }
    }

    private record Event(int nodeId, int correlationId, Message body, String reason, boolean lost) {
        Event(int nodeId, int correlationId, Message body, String reason) {
            this(nodeId, correlationId, body, reason, false);
        }
    }

    final List<Sent> history = new ArrayList<>();
    private final Map<Integer, ArrayDeque<Sent>> unanswered = new HashMap<>();
    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final Set<Integer> notReady = new HashSet<>();
    final List<Integer> disconnectsBySender = new ArrayList<>();
    private int nextCorrelationId;
    short produceVersion = ApiKey.PRODUCE.maxVersion;
    /** Answers Metadata requests found at the head of a node's queue; null leaves them to the test. */
    java.util.function.Supplier<io.idemlog.common.protocol.message.MetadataResponse> metadataAnswer;

    void setReady(int nodeId, boolean ready) {
        if (ready) {
            notReady.remove(nodeId);
        } else {
            notReady.add(nodeId);
        }
    }

    @Override
    public boolean ready(Node node, long nowMs) {
        return !notReady.contains(node.id());
    }

    @Override
    public boolean isReady(int nodeId) {
        return !notReady.contains(nodeId);
    }

    @Override
    public boolean isBackingOff(int nodeId, long nowMs) {
        return false;
    }

    @Override
    public short apiVersion(int nodeId, ApiKey api) {
        return api == ApiKey.PRODUCE ? produceVersion : api.maxVersion;
    }

    @Override
    public int send(int nodeId, ApiKey api, short version, Message body, boolean expectResponse, long nowMs) {
        int id = nextCorrelationId++;
        List<byte[]> batches = new ArrayList<>();
        if (body instanceof ProduceRequest p) {
            for (ProduceRequest.TopicData t : p.topics) {
                for (ProduceRequest.PartitionData d : t.partitions) {
                    ByteBuffer b = ((MemoryRecords) d.records).buffer().duplicate();
                    byte[] copy = new byte[b.remaining()];
                    b.get(copy);
                    batches.add(copy);
                }
            }
        }
        Sent s = new Sent(nodeId, id, api, version, body, batches);
        history.add(s);
        if (expectResponse) {
            unanswered.computeIfAbsent(nodeId, k -> new ArrayDeque<>()).addLast(s);
        } else {
            events.addLast(new Event(nodeId, id, null, null));
        }
        return id;
    }

    @Override
    public void disconnect(int nodeId) {
        disconnectsBySender.add(nodeId);
        unanswered.remove(nodeId);
        events.removeIf(e -> e.nodeId == nodeId);
    }

    /** When set, poll throws it: a bug (RuntimeException) or a JVM error (Error) on the I/O thread. */
    volatile Throwable pollFailure;

    @Override
    public void poll(Listener listener, long nowMs) {
        Throwable failure = pollFailure;
        if (failure instanceof RuntimeException r) {
            throw r;
        } else if (failure instanceof Error err) {
            throw err;
        }
        Event e;
        while ((e = events.pollFirst()) != null) {
            if (e.reason != null) {
                listener.onDisconnected(e.nodeId, e.reason, nowMs);
            } else if (e.lost) {
                listener.onAnswerLost(e.nodeId, e.correlationId, nowMs);
            } else {
                listener.onResponse(e.nodeId, e.correlationId, e.body, nowMs);
            }
        }
    }

    @Override
    public void close() {
    }

    /** The oldest unanswered request to the node, or null. */
    Sent peek(int nodeId) {
        answerMetadata();
        ArrayDeque<Sent> q = unanswered.get(nodeId);
        return q == null ? null : q.peekFirst();
    }

    int inFlight(int nodeId) {
        ArrayDeque<Sent> q = unanswered.get(nodeId);
        return q == null ? 0 : q.size();
    }

    /** Answers Metadata requests at the head of every node's queue (order per node is kept); returns how many. */
    int answerMetadata() {
        if (metadataAnswer == null) {
            return 0;
        }
        int n = 0;
        for (Map.Entry<Integer, ArrayDeque<Sent>> e : unanswered.entrySet()) {
            Sent head;
            while ((head = e.getValue().peekFirst()) != null && head.api() == ApiKey.METADATA) {
                e.getValue().pollFirst();
                events.addLast(new Event(e.getKey(), head.correlationId(), metadataAnswer.get(), null));
                n++;
            }
        }
        return n;
    }

    /** How many requests to the node wait for an answer. */
    int unansweredCount(int nodeId) {
        ArrayDeque<Sent> q = unanswered.get(nodeId);
        return q == null ? 0 : q.size();
    }

    /** Answers the oldest unanswered request to the node (after any Metadata request ahead of it). */
    void respond(int nodeId, Message body) {
        answerMetadata();
        Sent s = unanswered.get(nodeId).pollFirst();
        events.addLast(new Event(nodeId, s.correlationId(), body, null));
    }

    /**
     * The answer to the node's oldest unanswered request is lost and the connection lives on: reported as the
     * transport does when a later answer arrives first.
     */
    void loseAnswer(int nodeId) {
        Sent s = unanswered.get(nodeId).pollFirst();
        events.addLast(new Event(nodeId, s.correlationId(), null, null, true));
    }

    /** The connection drops: every unanswered request to the node is lost. */
    void dropConnection(int nodeId) {
        unanswered.remove(nodeId);
        events.addLast(new Event(nodeId, -1, null, "dropped by test"));
    }

    /** Requests of one API, in send order. */
    List<Sent> sent(ApiKey api) {
        List<Sent> out = new ArrayList<>();
        for (Sent s : history) {
            if (s.api() == api) {
                out.add(s);
            }
        }
        return out;
    }

    /** Forgets the history (not the unanswered requests). */
    void clearHistory() {
        history.clear();
    }

    static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }

    @SuppressWarnings("unused")
    private static void removeAll(Iterator<?> it) {
        while (it.hasNext()) {
            it.next();
            it.remove();
        }
    }
}
