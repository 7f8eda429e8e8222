package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DescribeProducersRequest;
import io.idemlog.common.protocol.message.DescribeProducersResponse;
import io.idemlog.server.log.Partition;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import io.idemlog.server.state.ProducerEntryVisitor;

/**
 * DescribeProducers (KIP-664): per partition the producers whose idempotence state idemlog keeps (bounded by
 * producer.state.max.producers.per.partition, least recently written first): id, epoch, the last sequence
 * appended (of its newest batch), and as last_timestamp the server time of its last write (what expiry uses; Kafka
 * reports the batch's timestamp). No transactions: coordinator_epoch and current_txn_start_offset are -1. An
 * unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION. The walk takes each partition's lock briefly; it runs
 * on the storage-io thread so that a table of 100,000 producers never stalls an event loop.
 */
final class DescribeProducersHandler implements ApiHandler {
    private final BrokerContext broker;

    DescribeProducersHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DESCRIBE_PRODUCERS);
        DescribeProducersRequest req = DescribeProducersRequest.read(body, ctx.version);
        broker.runBlocking(ctx, "describe producers", () -> ctx.respond(describe(ctx, req)));
    }

    private DescribeProducersResponse describe(RequestContext ctx, DescribeProducersRequest req) {
        DescribeProducersResponse rsp = new DescribeProducersResponse();
        for (DescribeProducersRequest.Topic t : req.topics) {
            DescribeProducersResponse.Topic rt = new DescribeProducersResponse.Topic();
            rt.name = t.name;
            rsp.topics.add(rt);
            for (int index : t.partitionIndexes) {
                DescribeProducersResponse.Partition rp = new DescribeProducersResponse.Partition();
                rp.partitionIndex = index;
                rt.partitions.add(rp);
                Partition p = broker.logs().partition(t.name, index);
                if (p == null) {
                    rp.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code;
                    rp.errorMessage = "This server does not host " + LogSafe.string(t.name) + "-" + index + ".";
                    ctx.countError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
                    continue;
                }
                p.forEachProducer(new ProducerEntryVisitor() {
                    private DescribeProducersResponse.Producer current;

                    @Override
                    public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                        current = new DescribeProducersResponse.Producer();
                        current.producerId = producerId;
                        current.producerEpoch = epoch;
                        current.lastTimestamp = lastWriteMs;
                        rp.activeProducers.add(current);
                    }

                    @Override
                    public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
                        // oldest first: the last call is the newest batch
                        current.lastSequence = (int) (((long) firstSequence + lastOffsetDelta) % (1L << 31));
                    }
                });
            }
        }
        return rsp;
    }
}
