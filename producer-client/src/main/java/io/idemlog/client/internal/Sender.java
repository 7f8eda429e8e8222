package io.idemlog.client.internal;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.ProduceFailedException;
import io.idemlog.client.ProducerClosedException;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerException;
import io.idemlog.client.ProducerTimeoutException;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import org.agrona.collections.Int2ObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The producer's I/O logic as a step function: {@link #runOnce(long)} reads what the network reported, times out
 * requests, expires batches, asks for metadata and a producer id when needed, and drains ready batches into one
 * Produce request per node. It returns when it next wants to run; the driver (the Netty event loop in
 * production, the test itself in unit tests) calls it again then, or sooner when something happens.
 *
 * <p>Single-threaded: only the I/O thread calls it. Time comes in as an argument, never from a clock.
 *
 * <p>Per node: at most {@code max.in.flight.requests.per.connection} requests in flight, answered in order; one
 * batch per partition per request; a request times out after {@code request.timeout.ms}, which closes the
 * connection (later answers on it could no longer be matched) and makes every batch in flight on it retriable.
 * Per partition the {@link PartitionProducerState} decides what may go next.
 */
public final class Sender implements Transport.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Sender.class);

    private enum Kind { PRODUCE, METADATA, INIT_PRODUCER_ID, PROBE }

    /** A request sent and not yet answered. */
    private static final class InFlight {
        final Kind kind;
        final int correlationId;
        final long sentMs;
        final ProducerBatch[] batches;

        InFlight(Kind kind, int correlationId, long sentMs, ProducerBatch[] batches) {
            this.kind = kind;
            this.correlationId = correlationId;
            this.sentMs = sentMs;
            this.batches = batches;
        }
    }

    /** What the sender keeps per node. */
    private static final class NodeState {
        final int id;
        final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        /** Partitions with something to send to this node in the current step. */
        final ArrayList<PartitionQueue> ready = new ArrayList<>();
        /** Where the next request starts in {@link #ready}, so that no partition is always last. */
        int rotation;
        /** When the last request went to this node ({@code answer.probe.ms} counts the quiet time from it). */
        long lastSentMs;
        /** Smoothed answer latency and its mean deviation, in ms (RFC 6298's SRTT and RTTVAR); -1: no sample yet. */
        double srttMs = -1;
        double rttvarMs;
        /**
         * The stall bound is doubled this many times: one more per stall, one less per {@link #STALL_DECAY_ANSWERS}
         * answers without a stall. A stall that was a false alarm (a slow server, not a stalled connection) so
         * makes the next ones rarer for a while, instead of recurring at every latency spike of a loaded machine.
         */
        int stallLevel;
        int answersSinceStall;
        /**
         * When the request now at the head of {@link #inFlight} became the head (its predecessor answered, or it was
         * sent to an empty pipeline). Answers come in request order, so a request queued behind others cannot be
         * answered before them: its wait is counted from here, not from its send (answer latency and stall bound).
         */
        long headSinceMs;
        /** Answer-latency samples taken; the stall bound acts only from {@link #STALL_MIN_SAMPLES} on. */
        int samples;
        /** The largest recent latency sample, decaying by 1/{@link #STALL_MAX_DECAY} per answer (ms). */
        double recentMaxMs;
        /**
         * The head request whose stall bound passed while this thread was running late (see
         * {@link #STALL_LATE_SLACK_MS}), and when it is looked at again; null: none.
         */
        InFlight stallSuspect;
        long stallConfirmAtMs;

        NodeState(int id) {
            this.id = id;
        }
    }

    private final Accumulator accumulator;
    private final Metadata metadata;
    private final Transport transport;
    private final Metrics metrics;
    private final boolean idempotent;
    private final ProducerConfig.Acks acks;
    private final int requestTimeoutMs;
    private final long retryBackoffMs;
    /** retries: sends of a batch after its first before it fails. */
    private final int retries;
    private final int maxInFlight;
    private final int maxRequestSize;
    /** stall.timeout.ms, 0 when stall detection is off (always off without idempotence: a re-send could duplicate). */
    private final long stallTimeoutMs;
    private final long answerProbeMs;
    private final Int2ObjectHashMap<NodeState> nodes = new Int2ObjectHashMap<>();
    private final ArrayList<ProducerBatch> scratch = new ArrayList<>();

    private long producerId = -1L;
    /** producer.name, or "" (docs/DEDUP.md "Stable producer identity"). */
    private final String producerName;
    /** The server's epoch block per named incarnation (ProducerIdentities.EPOCH_BLOCK on the server). */
    static final int NAMED_EPOCH_BLOCK = 16;
    private short producerEpoch = -1;
    private boolean producerIdInFlight;
    private long producerIdRetryAtMs;
    private volatile ProducerException fatal;

    public Sender(ProducerConfig config, Accumulator accumulator, Metadata metadata, Transport transport,
                  Metrics metrics) {
        this.accumulator = accumulator;
        this.metadata = metadata;
        this.transport = transport;
        this.metrics = metrics;
        this.idempotent = config.idempotence();
        this.producerName = config.producerName();
        this.acks = config.acks();
        this.requestTimeoutMs = (int) config.requestTimeoutMs();
        this.retryBackoffMs = config.retryBackoffMs();
        this.retries = config.retries();
        this.maxInFlight = config.maxInFlightRequestsPerConnection();
        this.maxRequestSize = config.maxRequestSize();
        this.stallTimeoutMs = config.idempotence() && config.acks() != ProducerConfig.Acks.NONE
            ? config.stallTimeoutMs() : 0L;
        this.answerProbeMs = config.acks() == ProducerConfig.Acks.NONE ? 0L : config.answerProbeMs();
    }

    /** The error that stopped the producer, or null. Readable from any thread. */
    public ProducerException fatalError() {
        return fatal;
    }

    /** The producer id the client holds (-1 before InitProducerId answered). */
    public long producerId() {
        return producerId;
    }

    public short producerEpoch() {
        return producerEpoch;
    }

    /** Whether every batch ever created is finished. */
    public boolean isIdle() {
        return accumulator.incompleteCount() == 0;
    }

    /**
     * One step. Returns the time (ms, same clock as {@code nowMs}) at which the sender wants to run again if
     * nothing happens before; {@link Long#MAX_VALUE} when it only waits for the network or for new records.
     */
    public long runOnce(long nowMs) {
        transport.poll(this, nowMs);
        if (fatal != null) {
            abortEverything(fatal);
            return Long.MAX_VALUE;
        }
        long next = timeOutRequests(nowMs);
        next = Math.min(next, expireBatches(nowMs));
        next = Math.min(next, maybeInitProducerId(nowMs));
        next = Math.min(next, sendProduceRequests(nowMs));
        next = Math.min(next, maybeSendMetadata(nowMs));
        next = Math.min(next, maybeProbe(nowMs));
        // The requests sent in this step were not there when timeOutRequests looked: without this, a request sent
        // last with nothing after it (a lost last answer) was timed out only when something else woke the sender.
        next = Math.min(next, nextRequestDeadline());
        if (fatal != null) {
            abortEverything(fatal);
            return Long.MAX_VALUE;
        }
        return next;
    }

    private NodeState node(int id) {
        NodeState n = nodes.get(id);
        if (n == null) {
            n = new NodeState(id);
            nodes.put(id, n);
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Timeouts and expiry

    private long timeOutRequests(long nowMs) {
        long next = Long.MAX_VALUE;
        for (NodeState n : nodes.values()) {
            InFlight head = n.inFlight.peekFirst();
            if (head == null) {
                continue;
            }
            long timeoutDue = head.sentMs + requestTimeoutMs;
            long due = dueMs(n, head); // as nextRequestDeadline
            if (due <= nowMs) {
                if (due < timeoutDue && nowMs < timeoutDue && nowMs - due > STALL_LATE_SLACK_MS) {
                    // This thread ran late (a GC pause or a starved CPU in this process, which may also host
                    // whatever forwards the answers): the answer may be in the socket, unread. Read first, and
                    // look again once the network had as long as we were late (at most the stall bound).
                    long wait = Math.max(1, Math.min(nowMs - due, stallBoundMs(n)));
                    LOG.debug("request {} to node {}: stall bound passed while this thread ran {} ms late; looking "
                        + "again in {} ms", head.correlationId, n.id, nowMs - due, wait);
                    n.stallSuspect = head;
                    n.stallConfirmAtMs = nowMs + wait;
                    next = Math.min(next, Math.min(timeoutDue, n.stallConfirmAtMs));
                    continue;
                }
                n.stallSuspect = null;
                if (due < timeoutDue && nowMs < timeoutDue) {
                    // Faster than waiting the request timeout: the re-sent batches are answered as duplicates
                    // with their original offsets if the server has them (docs/CLIENT.md "Faults that cost little").
                    LOG.debug("request {} to node {} unanswered {} ms after it could have been answered ({} after "
                        + "its send; stall bound {} ms, smoothed latency {} ms, recent maximum {} ms); re-sending "
                        + "what was in flight on a new connection", head.correlationId, n.id,
                        nowMs - waitStart(n, head), nowMs - head.sentMs, stallBoundMs(n), Math.round(n.srttMs),
                        Math.round(n.recentMaxMs));
                    metrics.connectionStalled();
                    n.stallLevel = Math.min(n.stallLevel + 1, 30);
                    n.answersSinceStall = 0;
                } else {
                    LOG.debug("request {} to node {} timed out after {} ms; closing the connection",
                        head.correlationId, n.id, requestTimeoutMs);
                    metrics.requestTimedOut();
                }
                transport.disconnect(n.id);
                failInFlight(n, nowMs);
            } else {
                next = Math.min(next, due);
            }
        }
        return next;
    }

    /** The earliest time a request in flight times out or stalls, as {@link #timeOutRequests} would see it. */
    private long nextRequestDeadline() {
        long next = Long.MAX_VALUE;
        for (NodeState n : nodes.values()) {
            InFlight head = n.inFlight.peekFirst();
            if (head != null) {
                next = Math.min(next, dueMs(n, head));
            }
        }
        return next;
    }

    /**
     * When the head request is given up: request.timeout.ms after its send, or, for a Produce request with stall
     * detection, earlier at the stall bound counted from {@link #waitStart}. Stall detection re-sends Produce
     * requests only: a second InitProducerId would take a new id (or, named, a new epoch block) and a Metadata
     * request is cheap to wait for.
     */
    private long dueMs(NodeState n, InFlight head) {
        long timeoutDue = head.sentMs + requestTimeoutMs;
        if (head.kind != Kind.PRODUCE) {
            return timeoutDue;
        }
        if (n.stallSuspect == head) {
            return Math.min(timeoutDue, n.stallConfirmAtMs);
        }
        long bound = stallBoundMs(n);
        return bound >= requestTimeoutMs ? timeoutDue : Math.min(timeoutDue, waitStart(n, head) + bound);
    }

    /**
     * Where the head request's wait is counted from: its send, or, if it was queued behind others, the moment its
     * predecessor was answered (answers come in request order: before that it could not have been answered).
     * Counting from the send took a request queued behind one slow answer (a long fsync) for stalled.
     */
    private static long waitStart(NodeState n, InFlight head) {
        return Math.max(head.sentMs, n.headSinceMs);
    }

    /**
     * A stall bound that passed more than this long before the sender ran (ms) is not acted on in that run: the
     * sender's own thread was paused (a GC pause, a starved CPU), so the answer may have arrived and be waiting
     * unread in the socket, or, when the process also hosts a proxy, not yet forwarded. The head is looked at again
     * once the network had as long as the pause (at most the stall bound): a stall is declared only by a run that
     * came on time. The harness's own GC pauses of 100-3000 ms were taken for stalled connections this way
     * (docs/BENCHMARKS.md, 2026-12-03).
     */
    static final long STALL_LATE_SLACK_MS = 10;
    /** Answers without a stall that halve the stall bound again after a stall doubled it. */
    static final int STALL_DECAY_ANSWERS = 64;
    /**
     * Latency samples a node needs before its stall bound acts (request.timeout.ms until then): the first answers
     * of a producer (JIT, topic creation, a cold page cache) are no estimate of the next ones.
     */
    static final int STALL_MIN_SAMPLES = 32;
    /** The recent maximum latency loses 1/this of itself per answer (halved in ~710 answers). */
    static final int STALL_MAX_DECAY = 1024;
    /** The stall bound is at least this multiple of the recent maximum latency. */
    static final double STALL_MAX_FACTOR = 1.5;

    /**
     * How long the oldest request on the node may wait (from {@link #waitStart}): request.timeout.ms, or, with
     * stall detection and at least {@link #STALL_MIN_SAMPLES} samples, the adaptive stall bound
     * max(stall.timeout.ms, 2 SRTT + 4 RTTVAR, 1.5 x the recent maximum latency) doubled per stall and halved again
     * per {@link #STALL_DECAY_ANSWERS} answers without one, never above request.timeout.ms. Twice the smoothed
     * latency (TCP's bound has SRTT once, but a floor of 1 s): a server whose answers take 1.5x their usual time
     * now and then is not taken for stalled; the recent maximum: a healthy server's rare slow answers (its latency
     * has a long tail that SRTT and RTTVAR, both averages, forget within a few answers) are not either.
     */
    private long stallBoundMs(NodeState n) {
        if (stallTimeoutMs <= 0 || n.samples < STALL_MIN_SAMPLES) {
            return requestTimeoutMs;
        }
        double adaptive = Math.max(Math.max(stallTimeoutMs, 2 * n.srttMs + 4 * n.rttvarMs),
            STALL_MAX_FACTOR * n.recentMaxMs);
        double bound = adaptive * (double) (1L << n.stallLevel);
        return bound >= requestTimeoutMs ? requestTimeoutMs : (long) Math.ceil(bound);
    }

    /** An answer came {@code sampleMs} after its wait started: RFC 6298's update, and the stall doubling decays. */
    private static void onLatencySample(NodeState n, long sampleMs) {
        double r = Math.max(0, sampleMs);
        if (n.samples < Integer.MAX_VALUE) {
            n.samples++;
        }
        n.recentMaxMs = Math.max(r, n.recentMaxMs - n.recentMaxMs / STALL_MAX_DECAY);
        if (n.srttMs < 0) {
            n.srttMs = r;
            n.rttvarMs = r / 2;
        } else {
            n.rttvarMs = 0.75 * n.rttvarMs + 0.25 * Math.abs(n.srttMs - r);
            n.srttMs = 0.875 * n.srttMs + 0.125 * r;
        }
        if (n.stallLevel > 0 && ++n.answersSinceStall >= STALL_DECAY_ANSWERS) {
            n.stallLevel--;
            n.answersSinceStall = 0;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lost-answer probes

    /**
     * Sends one small Metadata request (no topics) on a connection that has requests in flight and was quiet for
     * answer.probe.ms: its answer, coming in request order, proves the earlier answers lost (the transport reports
     * them), so the last request in flight need not wait for request.timeout.ms. One probe in flight per
     * connection; its answer is otherwise ignored.
     */
    private long maybeProbe(long nowMs) {
        if (answerProbeMs <= 0) {
            return Long.MAX_VALUE;
        }
        long next = Long.MAX_VALUE;
        for (NodeState n : nodes.values()) {
            InFlight tail = n.inFlight.peekLast();
            if (tail == null || tail.kind == Kind.PROBE) {
                continue;
            }
            long due = n.lastSentMs + answerProbeMs;
            if (due > nowMs) {
                next = Math.min(next, due);
                continue;
            }
            if (!transport.isReady(n.id)) {
                continue;
            }
            short version = transport.apiVersion(n.id, ApiKey.METADATA);
            if (version < 1) {
                continue; // v0 reads an empty topic list as "every topic"
            }
            io.idemlog.common.protocol.message.MetadataRequest probe =
                new io.idemlog.common.protocol.message.MetadataRequest();
            probe.allowAutoTopicCreation = false;
            int correlationId = transport.send(n.id, ApiKey.METADATA, version, probe, true, nowMs);
            n.inFlight.addLast(new InFlight(Kind.PROBE, correlationId, nowMs, null));
            n.lastSentMs = nowMs;
            metrics.inFlightDelta(1);
            metrics.probeSent();
        }
        return next;
    }

    private long expireBatches(long nowMs) {
        long next = Long.MAX_VALUE;
        for (PartitionQueue q : accumulator.partitions()) {
            accumulator.expire(q, nowMs, b -> finishFailed(b, new ProducerTimeoutException("Expiring "
                + b.recordCount() + " record(s) for " + q + ": " + (nowMs - b.createdMs) + " ms has passed since "
                + "batch creation (" + ProducerConfig.DELIVERY_TIMEOUT_MS + "); the batch was never sent", false)));
            next = Math.min(next, accumulator.earliestDeadline(q));
            PartitionProducerState s = q.state;
            if (!s.hasUnacked()) {
                continue;
            }
            scratch.clear();
            for (ProducerBatch b : s.unacked()) {
                if (b.expired) {
                    continue;
                }
                if (b.deadlineMs <= nowMs) {
                    scratch.add(b);
                } else {
                    next = Math.min(next, b.deadlineMs);
                }
            }
            for (ProducerBatch b : scratch) {
                ProducerTimeoutException e = new ProducerTimeoutException("Expiring " + b.recordCount()
                    + " record(s) for " + q + ": " + (nowMs - b.createdMs) + " ms has passed since batch creation ("
                    + ProducerConfig.DELIVERY_TIMEOUT_MS + "); the batch was sent " + b.attempts + " time(s) and "
                    + "its outcome is unknown: the records may or may not be in the log", true);
                if (b.inFlight) {
                    // Tell the callers now; keep the batch (and its sequence) until its request is settled, whose
                    // answer may still resolve the sequence.
                    b.expired = true;
                    metrics.recordsFailed(b.recordCount());
                    b.fail(e);
                } else {
                    s.onDead(b);
                    finishFailed(b, e);
                }
            }
            scratch.clear();
        }
        return next;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Producer id

    private long maybeInitProducerId(long nowMs) {
        if (!idempotent || producerId >= 0 || producerIdInFlight) {
            return Long.MAX_VALUE;
        }
        if (nowMs < producerIdRetryAtMs) {
            return producerIdRetryAtMs;
        }
        Node target = leastLoadedNode(nowMs);
        if (target == null) {
            return nowMs + retryBackoffMs;
        }
        if (!transport.ready(target, nowMs)) {
            return Long.MAX_VALUE;
        }
        short version = transport.apiVersion(target.id(), ApiKey.INIT_PRODUCER_ID);
        if (version < 0) {
            fatal = new FatalProducerException(target + " does not support InitProducerId: idempotence needs "
                + "it (set " + ProducerConfig.ENABLE_IDEMPOTENCE + "=false for this server)", (short) -1);
            return Long.MAX_VALUE;
        }
        InitProducerIdRequest request = new InitProducerIdRequest();
        request.transactionalId = null;
        request.transactionTimeoutMs = Integer.MAX_VALUE;
        if (!producerName.isEmpty()) {
            if (version < 2) {
                fatal = new FatalProducerException(target + " only has InitProducerId v" + version + ": "
                    + ProducerConfig.PRODUCER_NAME + " needs v2+ (an idemlog server)", (short) -1);
                return Long.MAX_VALUE;
            }
            request.taggedFields = new RawTaggedFields();
            request.taggedFields.add(InitProducerIdRequest.PRODUCER_NAME_TAG,
                producerName.getBytes(StandardCharsets.UTF_8));
        }
        int correlationId = transport.send(target.id(), ApiKey.INIT_PRODUCER_ID, version, request, true, nowMs);
        node(target.id()).inFlight.addLast(new InFlight(Kind.INIT_PRODUCER_ID, correlationId, nowMs, null));
        node(target.id()).lastSentMs = nowMs;
        metrics.inFlightDelta(1);
        producerIdInFlight = true;
        return Long.MAX_VALUE;
    }

    private boolean echoesName(InitProducerIdResponse r) {
        byte[] echo = r.taggedFields == null ? null : r.taggedFields.get(InitProducerIdRequest.PRODUCER_NAME_TAG);
        return echo != null && producerName.equals(new String(echo, StandardCharsets.UTF_8));
    }

    private void onInitProducerId(InitProducerIdResponse r, long nowMs) {
        producerIdInFlight = false;
        if (r.errorCode == 0 && !producerName.isEmpty() && !echoesName(r)) {
            // Apache Kafka ignores the tagged field and hands out a fresh id: running on would leave older instances
            // of this name unfenced, which is what the name promises. Fail clearly instead (docs/DEDUP.md).
            fatal = new FatalProducerException(ProducerConfig.PRODUCER_NAME + "='" + producerName + "' needs an "
                + "idemlog server: the broker did not confirm the name (Apache Kafka ignores it and would not fence "
                + "older instances); remove " + ProducerConfig.PRODUCER_NAME + " to run without a stable identity",
                (short) -1);
            return;
        }
        if (r.errorCode == 0) {
            producerId = r.producerId;
            producerEpoch = r.producerEpoch;
            metrics.producerIdReceived();
            LOG.info("producer id {} epoch {}", producerId, producerEpoch);
            return;
        }
        ErrorCode e = ErrorCode.forCode(r.errorCode);
        switch (r.errorCode) {
            // CLUSTER_/TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            case 31, 53 -> fatal = new FatalProducerException("InitProducerId failed: " + e, r.errorCode);
            default -> {
                LOG.warn("InitProducerId failed with error {}; retrying", r.errorCode);
                producerIdRetryAtMs = nowMs + retryBackoffMs;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Metadata

    private long maybeSendMetadata(long nowMs) {
        if (!metadata.shouldRequest(nowMs)) {
            return metadata.nextRequestMs();
        }
        Node target = leastLoadedNode(nowMs);
        if (target == null) {
            return nowMs + retryBackoffMs;
        }
        if (!transport.ready(target, nowMs)) {
            // Connecting or backing off; the transport wakes the sender when that changes.
            return Long.MAX_VALUE;
        }
        short version = transport.apiVersion(target.id(), ApiKey.METADATA);
        if (version < 0) {
            fatal = new FatalProducerException(target + " does not support a Metadata version idemlog knows",
                (short) -1);
            return Long.MAX_VALUE;
        }
        int correlationId = transport.send(target.id(), ApiKey.METADATA, version, metadata.newRequest(nowMs), true,
            nowMs);
        node(target.id()).inFlight.addLast(new InFlight(Kind.METADATA, correlationId, nowMs, null));
        node(target.id()).lastSentMs = nowMs;
        metrics.inFlightDelta(1);
        return Long.MAX_VALUE;
    }

    /**
     * The node to send metadata and InitProducerId to: a ready node with room and the fewest requests in flight;
     * else one node to connect to (known nodes first, then bootstrap addresses), skipping those backing off. Only
     * the caller's {@code ready()} on the chosen node starts a connection, so a refresh never connects to every
     * node of the cluster.
     */
    private Node leastLoadedNode(long nowMs) {
        Cluster cluster = metadata.cluster();
        Node best = null;
        int bestLoad = Integer.MAX_VALUE;
        Node connectTo = null;
        for (Node n : cluster.nodes().values()) {
            int load = load(n.id());
            if (transport.isReady(n.id()) && load < maxInFlight && load < bestLoad) {
                best = n;
                bestLoad = load;
            } else if (connectTo == null && !transport.isBackingOff(n.id(), nowMs)) {
                connectTo = n;
            }
        }
        if (best != null) {
            return best;
        }
        for (Node n : metadata.bootstrap()) {
            int load = load(n.id());
            if (transport.isReady(n.id()) && load < maxInFlight && load < bestLoad) {
                best = n;
                bestLoad = load;
            } else if (connectTo == null && !transport.isBackingOff(n.id(), nowMs)) {
                connectTo = n;
            }
        }
        return best != null ? best : connectTo;
    }

    private int load(int nodeId) {
        NodeState n = nodes.get(nodeId);
        return n == null ? 0 : n.inFlight.size();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Produce

    private long sendProduceRequests(long nowMs) {
        long next = Long.MAX_VALUE;
        boolean force = accumulator.drainEverything();
        Cluster cluster = metadata.cluster();
        boolean needNewProducerId = false;
        for (PartitionQueue q : accumulator.partitions()) {
            PartitionProducerState s = q.state;
            if (idempotent) {
                if (s.maybeBumpEpoch()) {
                    metrics.epochBump();
                    LOG.info("{}: bumped epoch to {} after an unresolved sequence; restarting at sequence 0", q,
                        s.epoch());
                }
                if (s.needsProducerId()) {
                    if (producerId >= 0 && s.adoptProducerId(producerId, producerEpoch)) {
                        if (!producerName.isEmpty()) {
                            s.limitEpoch((short) Math.min(Short.MAX_VALUE, producerEpoch + NAMED_EPOCH_BLOCK - 1));
                        }
                        LOG.debug("{}: producer id {} epoch {}", q, producerId, producerEpoch);
                    } else if (producerId >= 0 && producerId == s.producerId() && !s.hasUnacked()) {
                        needNewProducerId = true;
                    }
                }
            }
            long readyAt = readyAtMs(q, force);
            if (readyAt > nowMs) {
                next = Math.min(next, readyAt);
                continue;
            }
            Node leader = cluster.leader(q.topic, q.partition);
            if (leader == null) {
                metadata.requestUpdate();
                continue;
            }
            node(leader.id()).ready.add(q);
        }
        if (needNewProducerId && !producerName.isEmpty() && fatal == null) {
            // A new epoch block for the name would fence this producer's own other partitions (docs/DEDUP.md).
            fatal = new FatalProducerException("named producer '" + producerName + "' used up the "
                + (NAMED_EPOCH_BLOCK - 1) + " local epoch bumps of its epoch block in one partition; restart it",
                (short) -1);
            needNewProducerId = false;
        }
        if (needNewProducerId) {
            LOG.info("epoch of producer id {} exhausted; asking for a new producer id", producerId);
            producerId = -1L;
            producerEpoch = -1;
        }
        for (NodeState n : nodes.values()) {
            if (n.ready.isEmpty()) {
                continue;
            }
            Node node = cluster.node(n.id);
            while (node != null && !n.ready.isEmpty() && n.inFlight.size() < maxInFlight
                && transport.ready(node, nowMs)) {
                if (!sendProduce(n, nowMs)) {
                    break;
                }
            }
            n.ready.clear();
        }
        return next;
    }

    /**
     * When the partition has something to send: its retry's due time, or the time its first never-sent batch is
     * ready; {@link Long#MAX_VALUE} when it has nothing, or must wait for answers (or a producer id) first.
     */
    private long readyAtMs(PartitionQueue q, boolean force) {
        PartitionProducerState s = q.state;
        ProducerBatch retry = s.retryCandidate();
        if (retry != null) {
            return retry.retryAtMs;
        }
        return s.canSendNew() ? accumulator.readyAtMs(q, force) : Long.MAX_VALUE;
    }

    /** Builds and sends one Produce request to the node from its ready partitions; false when nothing went. */
    private boolean sendProduce(NodeState n, long nowMs) {
        short version = transport.apiVersion(n.id, ApiKey.PRODUCE);
        if (version < 0) {
            fatal = new FatalProducerException("node " + n.id + " does not support Produce v3 or later "
                + "(RecordBatch v2), which idempotence and idemlog need", ErrorCode.UNSUPPORTED_VERSION.code);
            return false;
        }
        ProduceRequest request = new ProduceRequest();
        request.acks = acks.wire;
        request.timeoutMs = requestTimeoutMs;
        List<ProducerBatch> batches = new ArrayList<>(Math.min(n.ready.size(), 16));
        // The request's own framing is small; leave it room under max.request.size.
        int budget = maxRequestSize - 512;
        int size = n.ready.size();
        int start = n.rotation % size;
        ArrayList<PartitionQueue> leftOver = null;
        for (int i = 0; i < size; i++) {
            PartitionQueue q = n.ready.get((start + i) % size);
            PartitionProducerState s = q.state;
            ProducerBatch b = s.retryCandidate();
            if (b == null) {
                if (!s.canSendNew()) {
                    continue;
                }
                int headSize = accumulator.headSize(q);
                if (headSize < 0) {
                    continue;
                }
                if (headSize > budget && !batches.isEmpty()) {
                    if (leftOver == null) {
                        leftOver = new ArrayList<>();
                    }
                    leftOver.add(q);
                    continue;
                }
                b = accumulator.poll(q);
                if (b == null) {
                    continue;
                }
                s.track(b);
            } else if (b.sizeInBytes() > budget && !batches.isEmpty()) {
                if (leftOver == null) {
                    leftOver = new ArrayList<>();
                }
                leftOver.add(q);
                continue;
            }
            batches.add(b);
            budget -= b.sizeInBytes();
            addToRequest(request, b);
        }
        n.rotation = start + 1;
        n.ready.clear();
        if (leftOver != null) {
            n.ready.addAll(leftOver);
        }
        if (batches.isEmpty()) {
            return false;
        }
        // Partitions with more ready batches go into the node's next request (pipelining, one batch per
        // partition per request).
        boolean force = accumulator.drainEverything();
        for (ProducerBatch b : batches) {
            if (readyAtMs(b.queue, force) <= nowMs) {
                n.ready.add(b.queue);
            }
        }
        ProducerBatch[] sent = batches.toArray(new ProducerBatch[0]);
        boolean expectResponse = acks != ProducerConfig.Acks.NONE;
        int correlationId = transport.send(n.id, ApiKey.PRODUCE, version, request, expectResponse, nowMs);
        for (ProducerBatch b : sent) {
            metrics.batchSent(b.attempts > 0);
            b.queue.state.onSent(b);
        }
        metrics.requestSent();
        metrics.inFlightDelta(1);
        n.inFlight.addLast(new InFlight(Kind.PRODUCE, correlationId, nowMs, sent));
        n.lastSentMs = nowMs;
        return true;
    }

    private static void addToRequest(ProduceRequest request, ProducerBatch b) {
        ProduceRequest.TopicData topic = null;
        for (ProduceRequest.TopicData t : request.topics) {
            if (t.name.equals(b.topic())) {
                topic = t;
                break;
            }
        }
        if (topic == null) {
            topic = new ProduceRequest.TopicData(b.topic());
            request.topics.add(topic);
        }
        topic.partitions.add(new ProduceRequest.PartitionData(b.partition(), b.records()));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Answers

    @Override
    public void onResponse(int nodeId, int correlationId, Message body, long nowMs) {
        NodeState n = nodes.get(nodeId);
        InFlight request = n == null ? null : n.inFlight.peekFirst();
        if (request == null || request.correlationId != correlationId) {
            LOG.warn("node {} answered correlation id {} but {} was expected; closing the connection", nodeId,
                correlationId, request == null ? "nothing" : request.correlationId);
            transport.disconnect(nodeId);
            if (n != null) {
                failInFlight(n, nowMs);
            }
            return;
        }
        long waitStart = waitStart(n, request);
        n.inFlight.pollFirst();
        n.headSinceMs = nowMs;
        metrics.inFlightDelta(-1);
        if (body != null) {
            onLatencySample(n, nowMs - waitStart);
        }
        switch (request.kind) {
            case PRODUCE -> onProduceResponse(request, (ProduceResponse) body, nowMs);
            case PROBE -> { } // its arrival is what counted (earlier lost answers were reported before it)
            case METADATA -> {
                metrics.metadataRefreshed();
                metadata.onResponse((MetadataResponse) body, nowMs);
            }
            case INIT_PRODUCER_ID -> onInitProducerId((InitProducerIdResponse) body, nowMs);
            default -> throw new IllegalStateException(request.kind.name());
        }
    }

    @Override
    public void onAnswerLost(int nodeId, int correlationId, long nowMs) {
        NodeState n = nodes.get(nodeId);
        InFlight request = n == null ? null : n.inFlight.peekFirst();
        if (request == null || request.correlationId != correlationId) {
            LOG.warn("node {}: answer {} reported lost but {} was expected; closing the connection", nodeId,
                correlationId, request == null ? "nothing" : request.correlationId);
            transport.disconnect(nodeId);
            if (n != null) {
                failInFlight(n, nowMs);
            }
            return;
        }
        n.inFlight.pollFirst();
        n.headSinceMs = nowMs;
        metrics.inFlightDelta(-1);
        metrics.answerLost();
        LOG.debug("node {}: the answer to request {} was lost (a later answer came first); re-sending at once",
            nodeId, correlationId);
        settleUnanswered(request, nowMs);
    }

    @Override
    public void onDisconnected(int nodeId, String reason, long nowMs) {
        NodeState n = nodes.get(nodeId);
        if (n != null && !n.inFlight.isEmpty()) {
            LOG.debug("connection to node {} lost ({}); {} request(s) in flight will be retried", nodeId, reason,
                n.inFlight.size());
            failInFlight(n, nowMs);
        }
        metadata.requestUpdate();
    }

    /** Settles every request in flight to a node whose connection is gone: their batches' fate is unknown. */
    private void failInFlight(NodeState n, long nowMs) {
        InFlight r;
        while ((r = n.inFlight.pollFirst()) != null) {
            metrics.inFlightDelta(-1);
            metrics.connectionFailure();
            settleUnanswered(r, nowMs);
        }
        metadata.requestUpdate();
    }

    /**
     * A request that will never be answered (its connection is gone, or its answer was lost). Its batches may or
     * may not be in the log; they go back for a retry at once, without retry.backoff.ms: nothing says the server
     * is failing, and the reconnect backoff already paces connections (with idempotence the server answers a
     * batch it has as a duplicate, with its original offset).
     */
    private void settleUnanswered(InFlight r, long nowMs) {
        switch (r.kind) {
            case PRODUCE -> {
                for (ProducerBatch b : r.batches) {
                    retryOrDie(b, nowMs, (short) -1, nowMs);
                }
            }
            case METADATA -> metadata.onFailure(nowMs);
            case INIT_PRODUCER_ID -> {
                producerIdInFlight = false;
                producerIdRetryAtMs = nowMs + retryBackoffMs;
            }
            case PROBE -> { }
            default -> throw new IllegalStateException(r.kind.name());
        }
    }

    private void onProduceResponse(InFlight request, ProduceResponse response, long nowMs) {
        if (response == null) {
            // acks=0: the transport reports the write itself; the server sends nothing.
            for (ProducerBatch b : request.batches) {
                b.queue.state.onAcked(b);
                finishSucceeded(b, -1L, -1L);
            }
            return;
        }
        for (ProducerBatch b : request.batches) {
            ProduceResponse.PartitionResponse p = find(response, b.topic(), b.partition());
            if (p == null) {
                LOG.warn("Produce answer from the server lacks {}-{}; retrying the batch", b.topic(), b.partition());
                retryOrDie(b, nowMs, (short) -1);
                continue;
            }
            onPartitionResponse(b, p, nowMs);
        }
    }

    private static ProduceResponse.PartitionResponse find(ProduceResponse r, String topic, int partition) {
        for (ProduceResponse.TopicResponse t : r.topics) {
            if (t.name.equals(topic)) {
                for (ProduceResponse.PartitionResponse p : t.partitions) {
                    if (p.index == partition) {
                        return p;
                    }
                }
            }
        }
        return null;
    }

    private void onPartitionResponse(ProducerBatch b, ProduceResponse.PartitionResponse p, long nowMs) {
        PartitionProducerState s = b.queue.state;
        short code = p.errorCode;
        if (code != 0) {
            metrics.error(code);
            b.lastErrorCode = code;
        }
        switch (ProduceErrors.classify(code)) {
            case SUCCESS -> {
                s.onAcked(b);
                finishSucceeded(b, p.baseOffset, p.logAppendTimeMs, repeats(p));
            }
            case DUPLICATE -> {
                s.onAcked(b);
                finishSucceeded(b, -1L, -1L);
            }
            case RETRY -> retryOrDie(b, nowMs, code);
            case RETRY_REFRESH_METADATA -> {
                metadata.requestUpdate();
                retryOrDie(b, nowMs, code);
            }
            case OUT_OF_ORDER -> {
                if (!idempotent || s.onOutOfOrder(b) == PartitionProducerState.OutOfOrderAction.FAIL) {
                    s.onDead(b);
                    finishFailed(b, new ProduceFailedException("The server answered OUT_OF_ORDER_SEQUENCE_NUMBER "
                        + "for " + b + " and no earlier batch of the partition can fill the gap any more; the "
                        + "partition continues under a new epoch", code, true));
                } else {
                    retryOrDie(b, nowMs, code);
                }
            }
            case UNKNOWN_PRODUCER -> {
                s.onDead(b);
                finishFailed(b, new ProduceFailedException("The server lost this producer's state "
                    + "(UNKNOWN_PRODUCER_ID) for " + b + "; the partition continues under a new epoch", code, true));
            }
            case FATAL -> {
                ErrorCode e = ErrorCode.forCode(code);
                if (fatal == null) {
                    fatal = new FatalProducerException("The server answered " + (e.code == code ? e.name()
                        : "error " + code) + " for " + b.topic() + "-" + b.partition() + (p.errorMessage != null
                        ? " (" + p.errorMessage + ")" : "") + ": the producer cannot continue", code);
                    LOG.error("fatal: {}", fatal.getMessage());
                }
                s.onDead(b);
                finishFailed(b, fatal);
            }
            case FAIL -> {
                s.onDead(b);
                ErrorCode e = ErrorCode.forCode(code);
                finishFailed(b, new ProduceFailedException("The server rejected " + b + " with "
                    + (e.code == code ? e.name() : "error " + code) + (p.errorMessage != null ? ": " + p.errorMessage
                    : "") + (p.recordErrors.isEmpty() ? "" : " " + recordErrors(p)), code, false));
            }
            default -> throw new IllegalStateException();
        }
    }

    private static String recordErrors(ProduceResponse.PartitionResponse p) {
        StringBuilder sb = new StringBuilder("[");
        for (ProduceResponse.RecordError e : p.recordErrors) {
            sb.append("record ").append(e.batchIndex).append(": ").append(e.message).append("; ");
        }
        return sb.append(']').toString();
    }

    /**
     * A failed attempt: the batch goes back in sequence order for a retry, unless its time is up or it has been
     * retried {@code retries} times.
     */
    private void retryOrDie(ProducerBatch b, long nowMs, short code) {
        retryOrDie(b, nowMs, code, nowMs + retryBackoffMs);
    }

    private void retryOrDie(ProducerBatch b, long nowMs, short code, long retryAtMs) {
        PartitionProducerState s = b.queue.state;
        if (b.expired) {
            // The callers were told already; the batch was waiting only for this attempt's outcome.
            s.onDead(b);
            finishFailed(b, null);
        } else if (nowMs >= b.deadlineMs) {
            s.onDead(b);
            finishFailed(b, new ProducerTimeoutException("Expiring " + b.recordCount() + " record(s) for "
                + b.topic() + "-" + b.partition() + ": " + ProducerConfig.DELIVERY_TIMEOUT_MS + " passed after "
                + b.attempts + " attempt(s), the last " + (code < 0 ? "without an answer" : "answered error " + code)
                + "; the records may or may not be in the log", true));
        } else if (b.attempts > retries) {
            s.onDead(b);
            finishFailed(b, new ProduceFailedException("Giving up on " + b.recordCount() + " record(s) for "
                + b.topic() + "-" + b.partition() + " after " + b.attempts + " attempt(s) (" + ProducerConfig.RETRIES
                + "=" + retries + "), the last " + (code < 0 ? "without an answer" : "answered error " + code)
                + "; the records may or may not be in the log", code, true));
        } else {
            s.onRetriableFailure(b, retryAtMs);
        }
    }

    /** The server's de-duplication repeats of a partition answer (docs/PROTOCOL.md), or null; never throws. */
    private static long[] repeats(ProduceResponse.PartitionResponse p) {
        byte[] raw = p.taggedFields == null ? null : p.taggedFields.get(ProduceResponse.REPEATS_TAG);
        if (raw == null) {
            return null;
        }
        try {
            return ProduceResponse.decodeRepeats(raw);
        } catch (RuntimeException e) {
            LOG.warn("ignoring a malformed de-duplication repeats field ({} bytes)", raw.length);
            return null;
        }
    }

    private void finishSucceeded(ProducerBatch b, long baseOffset, long logAppendTimeMs) {
        finishSucceeded(b, baseOffset, logAppendTimeMs, null);
    }

    private void finishSucceeded(ProducerBatch b, long baseOffset, long logAppendTimeMs, long[] repeats) {
        if (!b.expired) {
            // Counted before the futures complete: whoever waits on them then sees the count (metrics tests did not).
            metrics.recordsSent(b.recordCount());
            b.complete(baseOffset, logAppendTimeMs, repeats);
        }
        accumulator.deallocate(b);
    }

    /** Fails the batch's records (unless {@code e} is null: already told) and frees it. */
    private void finishFailed(ProducerBatch b, ProducerException e) {
        if (e != null && !b.expired) {
            metrics.recordsFailed(b.recordCount());
            b.fail(e);
        }
        accumulator.deallocate(b);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shutdown

    /** Fails every pending batch with {@code e}, closing connections first so that no buffer is still read. */
    private void abortEverything(ProducerException e) {
        abortEverything(e, e);
    }

    private void abortEverything(ProducerException sentError, ProducerException neverSentError) {
        for (NodeState n : nodes.values()) {
            if (!n.inFlight.isEmpty()) {
                transport.disconnect(n.id);
                metrics.inFlightDelta(-n.inFlight.size());
                n.inFlight.clear();
            }
        }
        for (PartitionQueue q : accumulator.partitions()) {
            q.state.drainUnacked(b -> finishFailed(b, sentError));
        }
        accumulator.abortAll(b -> finishFailed(b, neverSentError));
        metadata.wakeWaiters();
    }

    /** Close ran out of time: fail what is left. */
    public void forceClose() {
        abortEverything(new ProducerClosedException("The producer was closed before the record was acknowledged; "
            + "it may or may not be in the log", true),
            new ProducerClosedException("The producer was closed before the record was sent", false));
    }

    /** Stops the producer for good with this error (used by tests and when the I/O thread itself fails). */
    public void fail(ProducerException e) {
        if (fatal == null) {
            fatal = e;
        }
    }
}
