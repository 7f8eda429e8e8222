package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.config.TopicNames;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Metadata: this one server as the only broker, leader of every partition. Topics named in the request are created
 * when missing if both the server (auto.create.topics.enable) and the client allow it. A topic named twice is
 * answered once. Leader epoch is -1 (no leader epochs: clients then skip position validation).
 */
final class MetadataHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataHandler.class);

    private final BrokerContext broker;

    MetadataHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.METADATA);
        MetadataRequest req = MetadataRequest.read(body, ctx.version);
        ServerConfig config = broker.config();
        MetadataResponse rsp = new MetadataResponse();
        rsp.brokers.add(advertised(ctx, config));
        rsp.clusterId = broker.clusterId();
        rsp.controllerId = config.nodeId;

        Map<String, Integer> all = broker.logs().topics();
        Set<String> names = new LinkedHashSet<>();
        if (req.topics == null) {
            names.addAll(new TreeMap<>(all).keySet());
        } else {
            names.addAll(req.topics);
        }
        for (String name : names) {
            MetadataResponse.Topic t = new MetadataResponse.Topic();
            t.name = name;
            int partitions = broker.logs().partitionCount(name);
            if (partitions < 0) {
                if (!TopicNames.isValid(name)) {
                    t.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION.code;
                } else if (config.autoCreateTopics && req.allowAutoTopicCreation) {
                    partitions = create(name, config.numPartitions);
                    if (partitions < 0) {
                        t.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
                    }
                } else {
                    t.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code;
                }
            }
            for (int p = 0; p < partitions; p++) {
                MetadataResponse.Partition mp = new MetadataResponse.Partition();
                mp.partitionIndex = p;
                mp.leaderId = config.nodeId;
                mp.leaderEpoch = -1;
                mp.replicaNodes = new int[] {config.nodeId};
                mp.isrNodes = mp.replicaNodes;
                t.partitions.add(mp);
            }
            rsp.topics.add(t);
        }
        ctx.respond(rsp);
    }

    private int create(String name, int partitions) {
        try {
            int n = broker.logs().createTopic(name, partitions);
            LOG.info("auto-created topic {} with {} partitions", name, n);
            return n;
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot create topic {}", name, e);
            return -1;
        }
    }

    /** advertised.listeners, or the listener's host with the port this connection actually reached. */
    private static MetadataResponse.Broker advertised(RequestContext ctx, ServerConfig config) {
        if (config.advertisedListener != null) {
            return new MetadataResponse.Broker(config.nodeId, config.advertisedListener.host(),
                config.advertisedListener.port());
        }
        int port = ctx.localAddress() instanceof InetSocketAddress a ? a.getPort() : config.listener.port();
        return new MetadataResponse.Broker(config.nodeId, config.listener.host(), port);
    }
}
