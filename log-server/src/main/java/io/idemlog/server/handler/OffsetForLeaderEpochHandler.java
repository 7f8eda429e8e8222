package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochRequest;
import io.idemlog.common.protocol.message.OffsetForLeaderEpochResponse;
import io.idemlog.server.log.EpochEndOffset;
import io.idemlog.server.log.Partition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;

/**
 * OffsetForLeaderEpoch (api key 23, KIP-320; docs/REPLICATION.md section 4.5): per partition the end offset of the
 * leader epoch asked for, from the partition's leader-epoch cache ({@link Partition#endOffsetForEpoch}): the
 * current epoch ends at the log end offset, an older one at the start of the next known epoch (answered as the
 * largest known epoch at or below the one asked for), an epoch above every known one is UNDEFINED (-1, -1) with no
 * error (as Kafka). What a consumer asks to validate its position after a leader change or a seek with an epoch.
 *
 * <p>Per partition, before any lookup: an unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION; this node not the
 * leader NOT_LEADER_OR_FOLLOWER; {@code current_leader_epoch} (v2+) lower than the partition's FENCED_LEADER_EPOCH,
 * higher UNKNOWN_LEADER_EPOCH, -1 no check. Every error answers leader_epoch -1 and end_offset -1. The replica id
 * (v3+; -1 a consumer, -2 a debug client, the value below v3) changes nothing: idemlog's replicas do not use this API
 * (they replicate through Raft), and Kafka's leader answers every replica id the same way.
 */
final class OffsetForLeaderEpochHandler implements ApiHandler {
    private final BrokerContext broker;

    OffsetForLeaderEpochHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.OFFSET_FOR_LEADER_EPOCH);
        OffsetForLeaderEpochRequest req = OffsetForLeaderEpochRequest.read(body, ctx.version);
        OffsetForLeaderEpochResponse rsp = new OffsetForLeaderEpochResponse();
        for (OffsetForLeaderEpochRequest.Topic t : req.topics) {
            OffsetForLeaderEpochResponse.Topic rt = new OffsetForLeaderEpochResponse.Topic(t.topic);
            rsp.topics.add(rt);
            for (OffsetForLeaderEpochRequest.Partition p : t.partitions) {
                OffsetForLeaderEpochResponse.Partition rp = new OffsetForLeaderEpochResponse.Partition();
                rp.partition = p.partition;
                rt.partitions.add(rp);
                Partition partition = broker.logs().partition(t.topic, p.partition);
                ErrorCode error = partition == null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                    : LeaderChecks.leaderAndEpoch(partition, p.currentLeaderEpoch);
                if (error != ErrorCode.NONE) {
                    rp.errorCode = error.code;
                    ctx.countError(error);
                    continue;
                }
                EpochEndOffset end = partition.endOffsetForEpoch(p.leaderEpoch);
                rp.leaderEpoch = end.leaderEpoch();
                rp.endOffset = end.endOffset();
            }
        }
        ctx.respond(rsp);
    }
}
