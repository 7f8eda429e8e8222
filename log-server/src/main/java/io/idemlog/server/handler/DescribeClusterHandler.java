package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DescribeClusterRequest;
import io.idemlog.common.protocol.message.DescribeClusterResponse;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.server.cluster.ClusterLogStore;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;

/**
 * DescribeCluster: this one node as the only broker and the controller, at the address Metadata advertises, with
 * the cluster id. In cluster mode: every registered broker, and the metadata group's leader as the controller (-1
 * while none is known). Asking for controller endpoints (type 2) answers INVALID_REQUEST: idemlog has no separate
 * controller listener. Authorized operations are not computed (Integer.MIN_VALUE, as Kafka without an authorizer).
 */
final class DescribeClusterHandler implements ApiHandler {
    private final BrokerContext broker;

    DescribeClusterHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DESCRIBE_CLUSTER);
        DescribeClusterRequest req = DescribeClusterRequest.read(body, ctx.version);
        DescribeClusterResponse rsp = new DescribeClusterResponse();
        rsp.endpointType = req.endpointType;
        rsp.clusterId = broker.clusterId();
        if (req.endpointType != 1) {
            rsp.errorCode = ErrorCode.INVALID_REQUEST.code;
            rsp.errorMessage = "idemlog has no controller endpoints: ask for brokers (endpoint type 1)";
            ctx.countError(ErrorCode.INVALID_REQUEST);
            rsp.controllerId = -1;
            ctx.respond(rsp);
            return;
        }
        if (broker.logs() instanceof ClusterLogStore cluster) {
            for (MetadataResponse.Broker m : MetadataHandler.clusterBrokers(ctx, broker.config(), cluster.image())) {
                rsp.brokers.add(broker(m));
            }
            rsp.controllerId = cluster.metadataLeaderId();
            ctx.respond(rsp);
            return;
        }
        MetadataResponse.Broker self = MetadataHandler.advertised(ctx, broker.config());
        rsp.brokers.add(broker(self));
        rsp.controllerId = self.nodeId;
        ctx.respond(rsp);
    }

    private static DescribeClusterResponse.Broker broker(MetadataResponse.Broker m) {
        DescribeClusterResponse.Broker b = new DescribeClusterResponse.Broker();
        b.brokerId = m.nodeId;
        b.host = m.host;
        b.port = m.port;
        return b;
    }
}
