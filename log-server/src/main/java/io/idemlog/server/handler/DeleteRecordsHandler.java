package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DeleteRecordsRequest;
import io.idemlog.common.protocol.message.DeleteRecordsResponse;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * DeleteRecords: per partition, moves the log start offset (LogStore#deleteRecords) and answers the new one as
 * low_watermark. Offset -1 means the high watermark; above it, or negative, OFFSET_OUT_OF_RANGE; an unknown topic or
 * partition UNKNOWN_TOPIC_OR_PARTITION; a partition this node does not lead NOT_LEADER_OR_FOLLOWER, before any
 * work; an offline partition or a failed write KAFKA_STORAGE_ERROR (low_watermark
 * -1 with every error, as Kafka). At or below the current start nothing changes and the current start is
 * answered. The new start is durable (an fsync'd file) before the answer: the work runs on the storage-io thread, one
 * topic per task, never on an event loop. The timeout is not needed: the answer waits for nothing but that fsync.
 */
final class DeleteRecordsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeleteRecordsHandler.class);

    private final BrokerContext broker;

    DeleteRecordsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DELETE_RECORDS);
        DeleteRecordsRequest req = DeleteRecordsRequest.read(body, ctx.version);
        DeleteRecordsResponse rsp = new DeleteRecordsResponse();
        if (req.topics.isEmpty()) {
            ctx.respond(rsp);
            return;
        }
        step(ctx, req, rsp, 0);
    }

    private void step(RequestContext ctx, DeleteRecordsRequest req, DeleteRecordsResponse rsp, int i) {
        broker.runBlocking(ctx, "delete records", () -> {
            if (!ctx.isConnectionOpen()) {
                return;
            }
            rsp.topics.add(deleteIn(ctx, req.topics.get(i)));
            if (i + 1 < req.topics.size()) {
                step(ctx, req, rsp, i + 1);
            } else {
                ctx.respond(rsp);
            }
        });
    }

    private DeleteRecordsResponse.Topic deleteIn(RequestContext ctx, DeleteRecordsRequest.Topic t) {
        DeleteRecordsResponse.Topic rt = new DeleteRecordsResponse.Topic();
        rt.name = t.name;
        for (DeleteRecordsRequest.Partition p : t.partitions) {
            DeleteRecordsResponse.Partition rp = new DeleteRecordsResponse.Partition();
            rp.partitionIndex = p.partitionIndex;
            rt.partitions.add(rp);
            io.idemlog.server.log.Partition partition = broker.logs().partition(t.name, p.partitionIndex);
            if (partition != null && LeaderChecks.leader(partition) != ErrorCode.NONE) {
                rp.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER.code;
                ctx.countError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
                continue;
            }
            try {
                rp.lowWatermark = broker.logs().deleteRecords(t.name, p.partitionIndex, p.offset);
            } catch (AdminException e) {
                rp.errorCode = e.error().code;
                ctx.countError(e.error());
            } catch (IOException e) {
                broker.metrics().storageErrors.increment();
                LOG.error("DeleteRecords of {}-{} to offset {} failed", LogSafe.string(t.name), p.partitionIndex,
                    p.offset, e);
                rp.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
                ctx.countError(ErrorCode.KAFKA_STORAGE_ERROR);
            }
        }
        return rt;
    }
}
