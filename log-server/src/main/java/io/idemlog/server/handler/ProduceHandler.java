package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.server.log.AppendAnswer;
import io.idemlog.server.log.AppendOutcome;
import io.idemlog.server.log.DurabilityListener;
import io.idemlog.server.log.FlushDuty;
import io.idemlog.server.log.Partition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.BurstAction;
import io.idemlog.server.network.RequestContext;

import io.netty.util.concurrent.FastThreadLocal;

import java.nio.ByteBuffer;
import java.util.concurrent.Future;

/**
 * Produce: appends each partition's batch (the storage applies every rule of IDEMPOTENCE.md) and answers
 * <ul>
 *   <li>acks=1 at once, after the append;</li>
 *   <li>acks=-1 (all) only once every appended batch — or, for a duplicate, the ORIGINAL batch — is durable
 *       (group-committed fsync), or with REQUEST_TIMED_OUT for what is not durable after timeout_ms;</li>
 *   <li>acks=0 never; an error then closes the connection, which is the only way to tell such a producer.</li>
 * </ul>
 * Any other acks value gets INVALID_REQUIRED_ACKS on every partition and nothing is appended. A partition this node
 * does not lead ({@link io.idemlog.server.log.Partition#role()}) gets NOT_LEADER_OR_FOLLOWER, nothing appended.
 */
final class ProduceHandler implements ApiHandler {
    /** Each network thread's append outcome, reused batch after batch (read before the next append). */
    private static final FastThreadLocal<AppendOutcome> OUTCOME = new FastThreadLocal<>() {
        @Override
        protected AppendOutcome initialValue() {
            return new AppendOutcome();
        }
    };

    /**
     * Each network thread's decoded Produce request, reused request after request ({@link ProduceRequest#readInto}:
     * its topic and partition objects and lists, and the topic name strings while they repeat). Safe because
     * nothing of the request object graph outlives {@link #handle}: what the appends, the durability wait and the
     * cluster path's asynchronous append keep is the topic name (an immutable String, never changed in place), the
     * partition index (an int) and each partition's records buffer, a view that readInto creates anew for every
     * partition of every request (exactly as {@link ProduceRequest#read} does); the response is a tree of its own.
     * And {@link #handle} runs to its end on the connection's thread before that thread decodes another request;
     * should it ever be entered again on a thread before returning, the inner request is decoded into a new
     * object ({@link ReusedRequest#busy}).
     */
    private static final FastThreadLocal<ReusedRequest> REQUEST = new FastThreadLocal<>() {
        @Override
        protected ReusedRequest initialValue() {
            return new ReusedRequest();
        }
    };

    /** A network thread's reusable request, and whether a {@link #handle} of that thread is decoding into it. */
    private static final class ReusedRequest {
        final ProduceRequest request = new ProduceRequest();
        boolean busy;
    }

    /** End of a read burst, log.flush.thread=network: fsync on this thread (non-capturing: no allocation). */
    private static final BurstAction<Partition> FLUSH_NOW = (partition, partitions) -> partition.flushNow();
    /** End of a read burst, log.flush.thread=flusher: one wake of the flusher for the burst's appends. */
    private static final BurstAction<Partition> WAKE_FLUSHER = (partition, partitions) -> partition.wakeFlusher();
    /**
     * End of a read burst, log.flush.thread=auto: fsync on this thread when the burst appended to this partition
     * only (one fsync: a hand-off to the flusher and back would cost more than it overlaps), else wake the flusher
     * (this thread reads on instead of stopping for one fsync per partition). The produce handler is the only one
     * deferring work to a burst's end, so the burst's key count is its partition count.
     */
    private static final BurstAction<Partition> FLUSH_NOW_IF_ALONE = (partition, partitions) -> {
        if (partitions == 1) {
            partition.flushNow();
        } else {
            partition.wakeFlusher();
        }
    };

    private final BrokerContext broker;
    /**
     * log.flush.thread: at the end of the read burst that appended acks=all batches: {@link #FLUSH_NOW},
     * {@link #WAKE_FLUSHER} or {@link #FLUSH_NOW_IF_ALONE}.
     */
    private final BurstAction<Partition> afterBurst;

    ProduceHandler(BrokerContext broker) {
        this.broker = broker;
        this.afterBurst = switch (broker.config().flushThread) {
            case NETWORK -> FLUSH_NOW;
            case FLUSHER -> WAKE_FLUSHER;
            case AUTO -> FLUSH_NOW_IF_ALONE;
        };
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        ServerMetrics metrics = broker.metrics();
        metrics.request(ApiKey.PRODUCE);
        ReusedRequest reused = REQUEST.get();
        if (reused.busy) {
            produce(ctx, ProduceRequest.read(body, ctx.version), metrics); // re-entered: not the reused one
            return;
        }
        reused.busy = true;
        try {
            produce(ctx, ProduceRequest.readInto(body, ctx.version, reused.request), metrics);
        } finally {
            reused.request.forgetRecords(); // keeps no view of the frame, which the connection releases now
            reused.busy = false;
        }
    }

    /** Handles a decoded request; keeps no reference to {@code req} or its topics and partitions (see REQUEST). */
    private void produce(RequestContext ctx, ProduceRequest req, ServerMetrics metrics) {
        short acks = req.acks;
        boolean validAcks = acks == -1 || acks == 0 || acks == 1;
        ProduceResponse rsp = new ProduceResponse();
        int partitionCount = 0;
        for (int t = 0; t < req.topics.size(); t++) {
            partitionCount += req.topics.get(t).partitions.size();
        }
        Durability durability = acks == -1 && validAcks ? new Durability(ctx, rsp, partitionCount) : null;
        boolean anyError = false;
        for (int t = 0; t < req.topics.size(); t++) {
            ProduceRequest.TopicData td = req.topics.get(t);
            ProduceResponse.TopicResponse tr = new ProduceResponse.TopicResponse(td.name, td.partitions.size());
            rsp.topics.add(tr);
            for (int i = 0; i < td.partitions.size(); i++) {
                ProduceRequest.PartitionData pd = td.partitions.get(i);
                ProduceResponse.PartitionResponse pr = new ProduceResponse.PartitionResponse();
                pr.index = pd.index;
                tr.partitions.add(pr);
                Partition partition = broker.logs().partition(td.name, pd.index);
                ErrorCode error;
                String message = null;
                if (!validAcks) {
                    error = ErrorCode.INVALID_REQUIRED_ACKS;
                } else if (partition == null) {
                    error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (LeaderChecks.leader(partition) != ErrorCode.NONE) {
                    error = ErrorCode.NOT_LEADER_OR_FOLLOWER; // before any work: the client refreshes metadata
                } else if (repeated(req, t, i)) {
                    error = ErrorCode.INVALID_RECORD;
                    message = "more than one batch for partition " + td.name + "-" + pd.index + " in one request";
                } else if (!(pd.records instanceof MemoryRecords records)) {
                    error = ErrorCode.INVALID_RECORD;
                    message = "null records";
                } else if (fenced(records.buffer())) {
                    error = ErrorCode.INVALID_PRODUCER_EPOCH;
                    message = "producer " + records.buffer().getLong(records.buffer().position()
                        + RecordBatch.PRODUCER_ID_OFFSET) + " is a named producer with a newer incarnation: this one "
                        + "is fenced";
                } else if (behindARefusal(ctx, td.name, pd.index, records.buffer())) {
                    // an earlier batch of this producer for this partition was refused on this connection and has
                    // not been re-sent yet: appending this one would put it ahead of that one (ProduceFence)
                    error = ErrorCode.NOT_LEADER_OR_FOLLOWER;
                    message = "an earlier batch of this producer for " + td.name + "-" + pd.index + " was refused "
                        + "on this connection; it must be re-sent first";
                } else if (acks == -1 && (message = partition.notEnoughReplicas()) != null) {
                    // min.insync.replicas (cluster mode): refused before anything is proposed, as Kafka does
                    error = ErrorCode.NOT_ENOUGH_REPLICAS;
                } else if (partition.appendsAsynchronously()) {
                    // Cluster mode: answered once the batch's entry is committed and applied (acks=1 and acks=all
                    // alike, REPLICATION.md 4.4); the response waits for every such partition.
                    if (acks != 0 && durability == null) {
                        durability = new Durability(ctx, rsp, partitionCount);
                    }
                    appendAsync(ctx, td.name, partition, records.buffer(), pr, durability);
                    continue;
                } else {
                    ByteBuffer buf = records.buffer();
                    int length = buf.remaining();
                    if (acks != 0 && length >= RecordBatch.HEADER_SIZE
                        && buf.getLong(buf.position() + RecordBatch.PRODUCER_ID_OFFSET) < 0) {
                        // produce.non.idempotent.one.at.a.time (no-op when off); acks=0 is answered at once anyway
                        ctx.holdReadingUntilAnswered();
                    }
                    AppendOutcome result = OUTCOME.get(); // this thread's, reused: no allocation per batch
                    // acks=all: the burst's end fsyncs (network) or wakes the flusher once (flusher); either way
                    // the flusher is not woken per batch. acks=1: the flusher, woken by the append.
                    partition.append(buf, buf.position(), length,
                        durability != null ? FlushDuty.CALLER : FlushDuty.FLUSHER, result);
                    countOutcome(metrics, td.name, result, length);
                    fillResponse(ctx, pr, result, partition.logStartOffset());
                    // Every field of pr is written now; from here on only the durability wait writes it (under its
                    // monitor), so a failure reported inline or from another thread is never overwritten.
                    if (result.error() != ErrorCode.NONE) {
                        anyError = true;
                    } else if (durability != null) {
                        durability.await(partition, result.lastOffset(), pr);
                        if (!result.duplicate()) {
                            // once per partition for every request of this read burst, on this thread
                            ctx.afterReadBurst(partition, afterBurst);
                        }
                    }
                    continue;
                }
                // Refused before any append.
                if (error == ErrorCode.NOT_LEADER_OR_FOLLOWER || error == ErrorCode.NOT_ENOUGH_REPLICAS) {
                    rememberRefusal(ctx, td.name, pd.index,
                        pd.records instanceof MemoryRecords records ? records.buffer() : null);
                }
                anyError = true;
                metrics.produceError(error);
                ctx.countError(error);
                fail(pr, error, errorMessage(ctx, error, message));
            }
        }
        if (acks == 0) {
            ctx.noResponse();
            if (anyError) {
                ctx.closeConnection("produce error with acks=0");
            }
        } else if (durability != null) {
            durability.arm(req.timeoutMs);
        } else {
            ctx.respond(rsp);
        }
    }

    /**
     * A replicated partition's append: the partition response is filled when the outcome arrives (on a Ratis thread,
     * or inline when refused before proposing), under the request's {@link Durability} monitor; with acks=0
     * ({@code pending} null) the outcome is only counted.
     */
    private void appendAsync(RequestContext ctx, String topicName, Partition partition, ByteBuffer buf,
                             ProduceResponse.PartitionResponse pr, Durability pending) {
        int length = buf.remaining();
        ServerMetrics metrics = broker.metrics();
        int token = pending == null ? -1 : pending.register(pr);
        int partitionIndex = partition.index();
        partition.append(buf, buf.position(), length, result -> {
            ErrorCode error = result.error();
            if ((error == ErrorCode.NOT_LEADER_OR_FOLLOWER || error == ErrorCode.NOT_ENOUGH_REPLICAS)
                && ctx.inConnectionThread()) {
                // refused inline, before proposing (the replica stopped leading since the handler's check)
                rememberRefusal(ctx, topicName, partitionIndex, buf); // inline: buf is still the request's
            }
            countOutcome(metrics, topicName, result, length);
            if (pending != null) {
                pending.appended(token, result, partition.logStartOffset());
            }
        });
    }

    /**
     * Counts one append's outcome in the server's and the topic's produce metrics (both append paths; the
     * caller's request counts its own error through {@link #fillResponse}). No allocation.
     */
    private static void countOutcome(ServerMetrics metrics, String topicName, AppendAnswer result, int length) {
        ErrorCode error = result.error();
        TopicProduceMetrics topic = metrics.topic(topicName);
        if (error != ErrorCode.NONE) {
            topic.count(TopicProduceMetrics.Outcome.of(error));
            metrics.produceError(error);
        } else if (result.duplicate()) {
            metrics.duplicateBatches.increment();
            topic.count(TopicProduceMetrics.Outcome.DUPLICATE);
        } else {
            metrics.batchesAppended.increment();
            metrics.bytesAppended.add(length);
            topic.count(TopicProduceMetrics.Outcome.APPENDED);
            topic.recordsAppended.add(result.lastOffset() - result.baseOffset() + 1 - result.repeatCount());
            topic.bytesAppended.add(length);
            if (result.repeats() != null) {
                metrics.recordsDeduplicated.add(result.repeatCount());
                topic.recordsDeduplicated.add(result.repeatCount());
            }
        }
    }

    /**
     * Writes one append's outcome into its partition response (both append paths): the offsets, or the error
     * (counted on the request's connection). Allocates only for de-duplicated records' repeats (v9+) and errors.
     */
    private static void fillResponse(RequestContext ctx, ProduceResponse.PartitionResponse pr, AppendAnswer result,
                                     long logStartOffset) {
        ErrorCode error = result.error();
        if (error != ErrorCode.NONE) {
            ctx.countError(error);
            fail(pr, error, errorMessage(ctx, error, result.errorMessage()));
            return;
        }
        pr.baseOffset = result.baseOffset();
        pr.logAppendTimeMs = result.logAppendTime();
        pr.logStartOffset = logStartOffset;
        if (result.repeats() != null && ctx.version >= 9) {
            // Which records were repeats, and their originals: for the idemlog producer.
            pr.taggedFields = new RawTaggedFields();
            pr.taggedFields.add(ProduceResponse.REPEATS_TAG, ProduceResponse.encodeRepeats(result.repeats()));
        }
    }

    /** Produce v8+ carries an error message: {@code message}, or the code's own; null before v8. */
    private static String errorMessage(RequestContext ctx, ErrorCode error, String message) {
        return ctx.version >= 8 ? (message != null ? message : error.message) : null;
    }

    /**
     * Whether the batch comes from a fenced incarnation of a named producer (docs/DEDUP.md, stable producer identity):
     * its epoch is below the one the producer's latest InitProducerId handed out. A short or unnamed batch is left to
     * the storage's checks. No allocation.
     */
    private boolean fenced(ByteBuffer buf) {
        int p = buf.position();
        if (buf.remaining() < RecordBatch.HEADER_SIZE) {
            return false;
        }
        long producerId = buf.getLong(p + RecordBatch.PRODUCER_ID_OFFSET);
        if (producerId < 0) {
            return false;
        }
        long current = broker.logs().namedProducerEpoch(producerId);
        return current >= 0 && buf.getShort(p + RecordBatch.PRODUCER_EPOCH_OFFSET) < current;
    }

    /**
     * Whether an idempotent batch must wait behind an earlier one of the same producer that this connection was
     * refused for the partition ({@link ProduceFence}). No allocation; false at once for a connection never refused.
     */
    private static boolean behindARefusal(RequestContext ctx, String topic, int partition, ByteBuffer batch) {
        return ctx.connectionAttachment() instanceof ProduceFence fence && fence.blocks(topic, partition, batch);
    }

    /** Remembers an idempotent batch refused before any append on this connection (connection thread only). */
    private static void rememberRefusal(RequestContext ctx, String topic, int partition, ByteBuffer batch) {
        if (batch == null || ProduceFence.producerId(batch) < 0) {
            return;
        }
        ProduceFence fence = ctx.connectionAttachment() instanceof ProduceFence f ? f : null;
        if (fence == null) {
            fence = new ProduceFence();
            ctx.attachToConnection(fence);
        }
        fence.refused(topic, partition, batch);
    }

    /** Writes an error outcome into a partition response (the message only for Produce v8+, else null). */
    private static void fail(ProduceResponse.PartitionResponse pr, ErrorCode error, String message) {
        pr.errorCode = error.code;
        pr.baseOffset = -1L;
        pr.logStartOffset = -1L;
        pr.errorMessage = message;
    }

    /** Whether the same partition already appeared earlier in the request (one batch per partition, v3+). */
    private static boolean repeated(ProduceRequest req, int topicIndex, int partitionIndex) {
        ProduceRequest.TopicData td = req.topics.get(topicIndex);
        int index = td.partitions.get(partitionIndex).index;
        for (int t = 0; t <= topicIndex; t++) {
            ProduceRequest.TopicData other = req.topics.get(t);
            if (!other.name.equals(td.name)) {
                continue;
            }
            int end = t == topicIndex ? partitionIndex : other.partitions.size();
            for (int i = 0; i < end; i++) {
                if (other.partitions.get(i).index == index) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Holds an acks=all answer until every awaited offset is durable. Callbacks arrive on the flusher thread, on
     * another network thread, or inline (already durable, or already failed); the timeout on the connection's
     * thread; whichever finishes first answers. Ownership: the handler writes a partition response completely
     * before {@link #await} registers it; from then on only this object writes it, under its monitor, and the
     * response is encoded only after {@code answered} is set under that monitor.
     *
     * <p>No object per awaited partition: this one object is the durability listener of every partition of the
     * request ({@link Partition#whenDurable(long, DurabilityListener, int)}, which a single node's partition keeps
     * without allocating), and the token it registers with is the partition response's index in {@code waiting}
     * (an asynchronous append's callback carries the same token). A slot is cleared when its partition is answered:
     * a null slot is a done partition, so the timeout knows which ones are not, and a second answer for the same
     * token is ignored. Also the timeout's task itself ({@link #run}): no method reference per request.
     */
    private static final class Durability implements DurabilityListener, Runnable {
        private final RequestContext ctx;
        private final ProduceResponse rsp;
        /** The partition responses registered so far, by token; null once answered. Guarded by this monitor. */
        private final ProduceResponse.PartitionResponse[] waiting;
        /** Tokens handed out (the next one); every one below was registered. Guarded by this monitor. */
        private int registered;
        private int outstanding = 1; // the handler itself, until arm()
        private boolean answered;
        private Future<?> timeout;

        /** @param partitions the request's partition count: at most that many partitions wait */
        Durability(RequestContext ctx, ProduceResponse rsp, int partitions) {
            this.ctx = ctx;
            this.rsp = rsp;
            this.waiting = new ProduceResponse.PartitionResponse[partitions];
        }

        void await(Partition partition, long lastOffset, ProduceResponse.PartitionResponse pr) {
            int token = register(pr);
            partition.whenDurable(lastOffset, this, token);
        }

        /**
         * Registers a partition response that waits (for durability, or for an asynchronous append's outcome,
         * {@link #appended}); returns its token.
         */
        int register(ProduceResponse.PartitionResponse pr) {
            synchronized (this) {
                outstanding++;
                int token = registered++;
                waiting[token] = pr;
                return token;
            }
        }

        /** The asynchronous append's outcome: writes the partition response, answers when it was the last. */
        void appended(int token, AppendAnswer result, long logStartOffset) {
            synchronized (this) {
                ProduceResponse.PartitionResponse pr = waiting[token];
                if (answered || pr == null) {
                    return;
                }
                waiting[token] = null;
                fillResponse(ctx, pr, result, logStartOffset);
                if (--outstanding > 0) {
                    return;
                }
                answered = true;
            }
            finish();
        }

        @Override
        public void onDurable(int token, ErrorCode error) {
            synchronized (this) {
                ProduceResponse.PartitionResponse pr = waiting[token];
                if (answered || pr == null) {
                    return;
                }
                waiting[token] = null;
                if (error != ErrorCode.NONE) {
                    fail(pr, error, errorMessage(ctx, error, "the batch could not be made durable: "
                        + error.message));
                    ctx.countError(error);
                }
                if (--outstanding > 0) {
                    return;
                }
                answered = true;
            }
            finish();
        }

        void arm(int timeoutMs) {
            synchronized (this) {
                if (--outstanding == 0) {
                    answered = true;
                } else {
                    long delay = Math.max(1, timeoutMs);
                    timeout = ctx.schedule(this, delay);
                    return;
                }
            }
            finish();
        }

        /** The timeout (on the connection's thread, once scheduled by {@link #arm}). */
        @Override
        public void run() {
            synchronized (this) {
                if (answered) {
                    return;
                }
                answered = true;
                // What is not durable yet is reported as timed out; the producer retries it and the retry is
                // answered as a duplicate (with the original offset) once durable.
                for (int token = 0; token < registered; token++) {
                    ProduceResponse.PartitionResponse pr = waiting[token];
                    if (pr != null) {
                        waiting[token] = null;
                        ctx.countError(ErrorCode.REQUEST_TIMED_OUT);
                        fail(pr, ErrorCode.REQUEST_TIMED_OUT, ctx.version >= 8
                            ? "not durable within the request's timeout_ms" : null);
                    }
                }
            }
            ctx.respond(rsp);
        }

        private void finish() {
            Future<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            ctx.respond(rsp);
        }
    }
}
