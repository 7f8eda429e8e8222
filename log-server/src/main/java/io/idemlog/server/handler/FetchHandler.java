package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.server.log.EpochEndOffset;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.ReadResult;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.FileRecords;
import io.idemlog.server.network.RequestContext;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

/**
 * Fetch: whole stored batches, zero-copy from the segment files, never past the high watermark (the durable end).
 * Long polling: when fewer than min_bytes are available the fetch parks until a partition's high watermark moves
 * or max_wait_ms passes — no busy loop. Fetch sessions (KIP-227) are not created: every answer carries
 * session_id 0, so consumers keep sending full fetches; a request naming a session gets FETCH_SESSION_ID_NOT_FOUND.
 * A partition this node does not lead answers NOT_LEADER_OR_FOLLOWER; v9+ a {@code current_leader_epoch} lower than
 * the partition's FENCED_LEADER_EPOCH, higher UNKNOWN_LEADER_EPOCH (-1: no check); high watermark, last stable
 * offset and log start -1 with these errors, as Kafka; a fetch with any partition error is answered at once. v12+
 * a {@code last_fetched_epoch} is checked for divergence (KIP-595, see {@link PendingFetch#divergence}).
 */
final class FetchHandler implements ApiHandler {
    private static final MemoryRecords EMPTY = new MemoryRecords(ByteBuffer.allocate(0));
    private static final int FINAL_EPOCH = -1;
    /** FetchResponse v12+ partition tagged field 0: DivergingEpoch {epoch int32, end_offset int64}. */
    static final int DIVERGING_EPOCH_TAG = 0;

    private final BrokerContext broker;

    FetchHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.FETCH);
        FetchRequest req = FetchRequest.read(body, ctx.version);
        if (ctx.version >= 7 && req.sessionId != 0) {
            FetchResponse rsp = new FetchResponse();
            rsp.errorCode = req.sessionEpoch == FINAL_EPOCH ? ErrorCode.NONE.code
                : ErrorCode.FETCH_SESSION_ID_NOT_FOUND.code;
            ctx.countError(ErrorCode.forCode(rsp.errorCode));
            ctx.respond(rsp);
            return;
        }
        List<Target> targets = new ArrayList<>();
        for (FetchRequest.Topic t : req.topics) {
            for (FetchRequest.Partition p : t.partitions) {
                targets.add(new Target(t.topic, p, broker.logs().partition(t.topic, p.partition)));
            }
        }
        new PendingFetch(ctx, req, targets).attempt();
    }

    private record Target(String topic, FetchRequest.Partition request, Partition partition) {
    }

    /** One fetch, possibly parked. Confined to its connection's thread, except {@link #wake()}. */
    private final class PendingFetch implements FetchWaits.Waiter {
        private final RequestContext ctx;
        private final FetchRequest req;
        private final List<Target> targets;
        private boolean parked;
        private boolean done;
        private Future<?> timeout;
        private int bytes;
        private boolean error;
        /** The last read answered a diverging epoch: answered at once, as an error is. */
        private boolean diverged;

        PendingFetch(RequestContext ctx, FetchRequest req, List<Target> targets) {
            this.ctx = ctx;
            this.req = req;
            this.targets = targets;
        }

        void attempt() {
            FetchResponse rsp = read();
            if (error || diverged || bytes >= Math.max(1, req.minBytes) || req.maxWaitMs <= 0 || targets.isEmpty()) {
                answer(rsp);
                return;
            }
            boolean first = !parked;
            park();
            if (first) {
                timeout = ctx.schedule(this::expire, req.maxWaitMs);
                // The high watermark may have moved between the read and the park: look once more.
                rsp = read();
                if (error || diverged || bytes >= Math.max(1, req.minBytes)) {
                    answer(rsp);
                }
            }
        }

        private void park() {
            parked = true;
            for (Target t : targets) {
                broker.fetchWaits().park(t.partition(), this);
            }
        }

        @Override
        public void wake() {
            ctx.execute(() -> {
                if (!done && ctx.isConnectionOpen()) {
                    attempt();
                } else if (!done) {
                    abandon();
                }
            });
        }

        private void expire() {
            if (!done) {
                answer(read());
            }
        }

        private void abandon() {
            done = true;
            unpark();
        }

        private void answer(FetchResponse rsp) {
            done = true;
            if (timeout != null) {
                timeout.cancel(false);
            }
            unpark();
            broker.metrics().fetchBytes.add(bytes);
            if (error) {
                countErrors(rsp);
            }
            ctx.respond(rsp);
        }

        /** Counts the answer's partition errors (only the read that is answered: a parked fetch reads again). */
        private void countErrors(FetchResponse rsp) {
            for (int t = 0; t < rsp.topics.size(); t++) {
                List<FetchResponse.Partition> ps = rsp.topics.get(t).partitions;
                for (int i = 0; i < ps.size(); i++) {
                    ctx.countError(ErrorCode.forCode(ps.get(i).errorCode));
                }
            }
        }

        private void unpark() {
            if (parked) {
                for (Target t : targets) {
                    broker.fetchWaits().unpark(t.partition(), this);
                }
            }
        }

        /**
         * KIP-595's divergence check for a fetch naming its {@code last_fetched_epoch} (v12+; Kafka's followers send
         * it, kafka-clients' consumers do not): the end of that epoch here, as OffsetForLeaderEpoch answers it.
         * Unknown (above every epoch) or a fetch offset below the log start: OFFSET_OUT_OF_RANGE. The fetcher's log
         * diverges when that epoch ends before its fetch offset, or only an older epoch is known: the answer carries
         * {@code diverging_epoch} (tagged field 0: the epoch and its end offset), no records, and is sent at once.
         * Returns whether the partition was answered here. Allocates (the answer), but only for such fetches.
         */
        private boolean divergence(Partition partition, FetchRequest.Partition request, FetchResponse.Partition p) {
            EpochEndOffset end = partition.endOffsetForEpoch(request.lastFetchedEpoch);
            long logStart = partition.logStartOffset();
            if (end.isUndefined() || request.fetchOffset < logStart) {
                p.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE.code;
                error = true;
                return true;
            }
            if (end.leaderEpoch() < request.lastFetchedEpoch || end.endOffset() < request.fetchOffset) {
                long highWatermark = partition.highWatermark();
                p.highWatermark = highWatermark;
                p.lastStableOffset = highWatermark;
                p.logStartOffset = logStart;
                ByteBuffer field = ByteBuffer.allocate(4 + 8 + 1);
                field.putInt(end.leaderEpoch()).putLong(end.endOffset()).put((byte) 0); // struct, no tags of its own
                p.taggedFields = new RawTaggedFields();
                p.taggedFields.add(DIVERGING_EPOCH_TAG, field.array());
                diverged = true;
                return true;
            }
            return false;
        }

        private FetchResponse read() {
            bytes = 0;
            error = false;
            diverged = false;
            FetchResponse rsp = new FetchResponse();
            int remaining = req.maxBytes <= 0 ? Integer.MAX_VALUE : req.maxBytes;
            FetchResponse.Topic current = null;
            for (Target t : targets) {
                if (current == null || !current.topic.equals(t.topic())) {
                    current = new FetchResponse.Topic(t.topic());
                    rsp.topics.add(current);
                }
                FetchResponse.Partition p = new FetchResponse.Partition();
                p.partitionIndex = t.request().partition;
                p.records = EMPTY;
                p.abortedTransactions = req.isolationLevel == 1 ? new ArrayList<>(0) : null;
                current.partitions.add(p);
                Partition partition = t.partition();
                if (partition == null) {
                    p.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code;
                    error = true;
                    continue;
                }
                // Leadership and current_leader_epoch (v9+), before the read; the offsets stay -1, as Kafka's
                // error answers. Checked on every attempt: a parked fetch sees a leader change when it wakes.
                ErrorCode refused = LeaderChecks.leaderAndEpoch(partition, t.request().currentLeaderEpoch);
                if (refused != ErrorCode.NONE) {
                    p.errorCode = refused.code;
                    error = true;
                    continue;
                }
                if (ctx.version >= 12 && t.request().lastFetchedEpoch >= 0 && divergence(partition, t.request(), p)) {
                    continue;
                }
                int limit = Math.min(t.request().partitionMaxBytes, remaining);
                ReadResult r = partition.read(t.request().fetchOffset, Math.max(1, limit));
                p.errorCode = r.error().code;
                p.highWatermark = r.highWatermark();
                p.lastStableOffset = r.highWatermark();
                p.logStartOffset = r.logStartOffset();
                if (r.error() != ErrorCode.NONE) {
                    error = true;
                    continue;
                }
                // The first batch of a response is sent whole even when over the limits (KIP-74); after that the
                // limits hold.
                if (r.size() > 0 && r.file() != null && (bytes == 0 || r.size() <= limit) && remaining > 0) {
                    p.records = new FileRecords(r.file(), r.channel(), r.position(), r.size());
                    bytes += r.size();
                    remaining -= r.size();
                }
            }
            return rsp;
        }
    }
}
