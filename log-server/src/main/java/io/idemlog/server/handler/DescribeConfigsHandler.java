package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DescribeConfigsRequest;
import io.idemlog.common.protocol.message.DescribeConfigsResponse;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;

import java.util.List;

/**
 * DescribeConfigs for topics (every topic config of the table, or the keys asked for; unknown keys are left out, as
 * Kafka does) with value, source and synonyms; and for this broker (resource name = node.id): every server property,
 * read-only (they are set at start), with source STATIC_BROKER_CONFIG when the operator set it, else
 * DEFAULT_CONFIG. The empty broker name (cluster-wide dynamic defaults) answers no configs: there are none. An unknown
 * topic answers UNKNOWN_TOPIC_OR_PARTITION, another broker id or resource type INVALID_REQUEST. No disk work: answered
 * on the event loop.
 */
final class DescribeConfigsHandler implements ApiHandler {
    private final BrokerContext broker;

    DescribeConfigsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DESCRIBE_CONFIGS);
        DescribeConfigsRequest req = DescribeConfigsRequest.read(body, ctx.version);
        DescribeConfigsResponse rsp = new DescribeConfigsResponse();
        for (DescribeConfigsRequest.Resource res : req.resources) {
            DescribeConfigsResponse.Result r = new DescribeConfigsResponse.Result();
            r.resourceType = res.resourceType;
            r.resourceName = res.resourceName;
            rsp.results.add(r);
            switch (res.resourceType) {
                case DescribeConfigsRequest.TOPIC -> topic(r, res.configurationKeys, req);
                case DescribeConfigsRequest.BROKER -> broker(r, res.configurationKeys, req);
                default -> {
                    r.errorCode = ErrorCode.INVALID_REQUEST.code;
                    r.errorMessage = "resource type " + res.resourceType + " is not supported by idemlog (topics: 2, "
                        + "brokers: 4)";
                }
            }
        }
        for (DescribeConfigsResponse.Result r : rsp.results) {
            if (r.errorCode != 0) {
                ctx.countError(ErrorCode.forCode(r.errorCode));
            }
        }
        ctx.respond(rsp);
    }

    private void topic(DescribeConfigsResponse.Result r, List<String> keys, DescribeConfigsRequest req) {
        TopicConfig tc = broker.logs().topicConfig(r.resourceName);
        if (tc == null) {
            r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code;
            r.errorMessage = "Topic '" + LogSafe.string(r.resourceName) + "' does not exist.";
            return;
        }
        TopicConfigDef def = tc.def();
        for (TopicConfigDef.Key k : def.keys().values()) {
            if (keys == null || keys.contains(k.name())) {
                r.configs.add(TopicConfigs.describe(tc, k, req.includeSynonyms, req.includeDocumentation));
            }
        }
    }

    private void broker(DescribeConfigsResponse.Result r, List<String> keys, DescribeConfigsRequest req) {
        ServerConfig config = broker.config();
        if (r.resourceName.isEmpty()) {
            return; // cluster-wide dynamic defaults: none
        }
        if (!r.resourceName.equals(Integer.toString(config.nodeId))) {
            r.errorCode = ErrorCode.INVALID_REQUEST.code;
            r.errorMessage = "Unexpected broker id, expected " + config.nodeId + " or empty string, but received "
                + LogSafe.string(r.resourceName);
            return;
        }
        for (String name : ServerConfig.propertyNames()) {
            if (config.get(name) == null) {
                continue;
            }
            if (keys == null || keys.contains(name)) {
                r.configs.add(TopicConfigs.broker(config, name, req.includeSynonyms, req.includeDocumentation));
            }
        }
    }
}
