package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.server.log.Partition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.LogLimiter;
import io.idemlog.server.network.RequestContext;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * ListOffsets: -1 latest (the high watermark: the durable end), -2 earliest (the log start), a time t >= 0 the
 * first offset whose record timestamp is >= t (or offset -1, timestamp -1 when none); v7+ -3 max timestamp (the first
 * record with the largest timestamp), v8+ -4 earliest local (= earliest: nothing is tiered), v9+ -5 latest tiered
 * (offset -1: nothing is tiered). Other negative values: INVALID_REQUEST. A timestamp lookup that
 * cannot read the log (an offline partition, an I/O error) answers KAFKA_STORAGE_ERROR for that partition, counted in
 * errors.storage and logged (rate-limited), never "no such offset".
 *
 * <p>Before any lookup: this node not the partition's leader NOT_LEADER_OR_FOLLOWER; v4+ {@code current_leader_epoch}
 * lower than the partition's FENCED_LEADER_EPOCH, higher UNKNOWN_LEADER_EPOCH, -1 no check (offset and timestamp -1
 * with every error). An answered offset carries (v4+) the partition's current leader epoch as its leader_epoch
 * (-1 with offset -1). Kafka answers the epoch of the batch holding the offset; on a single node every batch has the
 * current epoch 0, so the two agree; in a cluster an older batch's epoch can be lower, and answering the current one
 * only makes a consumer's later validation ask for the current epoch's end (the log end), which never reports a
 * truncation that did not happen.
 */
final class ListOffsetsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ListOffsetsHandler.class);
    /** A client can repeat a lookup on a broken disk as often as it likes: at most 1 line/s after a burst of 10. */
    private static final LogLimiter LOOKUP_FAILURES = new LogLimiter(1.0, 10, SystemNanoClock.INSTANCE);
    private final BrokerContext broker;

    ListOffsetsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.LIST_OFFSETS);
        ListOffsetsRequest req = ListOffsetsRequest.read(body, ctx.version);
        ListOffsetsResponse rsp = new ListOffsetsResponse();
        for (ListOffsetsRequest.Topic t : req.topics) {
            ListOffsetsResponse.Topic rt = new ListOffsetsResponse.Topic(t.name);
            rsp.topics.add(rt);
            for (ListOffsetsRequest.Partition p : t.partitions) {
                ListOffsetsResponse.Partition rp = new ListOffsetsResponse.Partition();
                rp.partitionIndex = p.partitionIndex;
                rt.partitions.add(rp);
                Partition partition = broker.logs().partition(t.name, p.partitionIndex);
                ErrorCode refused = partition == null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                    : LeaderChecks.leaderAndEpoch(partition, p.currentLeaderEpoch);
                if (refused != ErrorCode.NONE) {
                    rp.errorCode = refused.code;
                    ctx.countError(refused);
                    continue;
                }
                if (p.timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
                    rp.offset = partition.highWatermark();
                } else if (p.timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP) {
                    rp.offset = partition.logStartOffset();
                } else if (p.timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
                    rp.offset = partition.logStartOffset(); // no tiered storage: every segment is local
                } else if (p.timestamp == ListOffsetsRequest.LATEST_TIERED_TIMESTAMP) {
                    rp.offset = -1L; // nothing is tiered (Kafka's answer without remote storage)
                    rp.timestamp = -1L;
                } else if (p.timestamp >= 0 || p.timestamp == ListOffsetsRequest.MAX_TIMESTAMP) {
                    try {
                        long[] found = p.timestamp == ListOffsetsRequest.MAX_TIMESTAMP ? maxTimestamp(partition)
                            : partition.offsetForTimestamp(p.timestamp);
                        rp.offset = found[0];
                        rp.timestamp = found[1];
                    } catch (IOException e) {
                        rp.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
                        ctx.countError(ErrorCode.KAFKA_STORAGE_ERROR);
                        broker.metrics().storageErrors.increment();
                        long dropped = LOOKUP_FAILURES.tryAcquire();
                        if (dropped >= 0) {
                            LOG.warn("{}: ListOffsets for timestamp {} failed: {}{}", partition, p.timestamp, e,
                                LogLimiter.suffix(dropped));
                        }
                    }
                } else {
                    rp.errorCode = ErrorCode.INVALID_REQUEST.code;
                    ctx.countError(ErrorCode.INVALID_REQUEST);
                }
                if (rp.errorCode == ErrorCode.NONE.code && rp.offset >= 0) {
                    // v4+: the epoch of the offset answered; see the class comment
                    rp.leaderEpoch = partition.leaderEpoch();
                }
            }
        }
        ctx.respond(rsp);
    }

    /**
     * KIP-734 (-3): the first record carrying the largest timestamp below the high watermark, as {offset, timestamp};
     * {-1, -1} when there is none. Found by a binary search over timestamps with the time lookup
     * ({@link Partition#offsetForTimestamp}: "first record at or after t"), at most 63 lookups: this is an admin
     * query (GetOffsetShell, Admin.listOffsets(OffsetSpec.maxTimestamp())), not a hot path, and storage keeps no
     * per-partition maximum that respects the high watermark.
     */
    static long[] maxTimestamp(Partition partition) throws IOException {
        if (partition.offsetForTimestamp(0L)[0] < 0) {
            return new long[] {-1L, -1L};
        }
        long lo = 0L; // a record at or after lo exists
        long hi = Long.MAX_VALUE; // none at or after hi (a timestamp is never Long.MAX_VALUE in practice)
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (partition.offsetForTimestamp(mid)[0] >= 0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return partition.offsetForTimestamp(lo);
    }
}
