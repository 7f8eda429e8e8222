package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.AlterConfigsRequest;
import io.idemlog.common.protocol.message.AlterConfigsResponse;
import io.idemlog.common.protocol.message.DescribeConfigsRequest;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * IncrementalAlterConfigs (44) and AlterConfigs (33) for topics. Incremental: SET, DELETE (back to the broker
 * default), APPEND and SUBTRACT (list configs only, on the current effective value), applied to the topic's
 * current overrides; the full AlterConfigs replaces every override by the ones given (what it leaves out goes back
 * to the default, as in Kafka). The result is validated like CreateTopics' configs (INVALID_CONFIG naming each bad
 * key), stored durably, and applied at once to every partition; validate_only stores nothing. Broker configs are
 * static (INVALID_REQUEST: set them in the properties file and restart); an unknown topic is
 * UNKNOWN_TOPIC_OR_PARTITION. The changes run on the storage-io thread, one resource per task.
 */
final class AlterConfigsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AlterConfigsHandler.class);

    private final BrokerContext broker;
    private final boolean incremental;

    AlterConfigsHandler(BrokerContext broker, boolean incremental) {
        this.broker = broker;
        this.incremental = incremental;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        ApiKey api = incremental ? ApiKey.INCREMENTAL_ALTER_CONFIGS : ApiKey.ALTER_CONFIGS;
        broker.metrics().request(api);
        AlterConfigsRequest req = incremental ? AlterConfigsRequest.readIncremental(body, ctx.version)
            : AlterConfigsRequest.readAlter(body, ctx.version);
        AlterConfigsResponse rsp = new AlterConfigsResponse(incremental);
        List<AlterConfigsRequest.Resource> todo = new ArrayList<>();
        List<AlterConfigsResponse.Result> results = new ArrayList<>();
        for (AlterConfigsRequest.Resource res : req.resources) {
            AlterConfigsResponse.Result r = new AlterConfigsResponse.Result();
            r.resourceType = res.resourceType;
            r.resourceName = res.resourceName;
            rsp.responses.add(r);
            if (res.resourceType == DescribeConfigsRequest.TOPIC) {
                todo.add(res);
                results.add(r);
            } else if (res.resourceType == DescribeConfigsRequest.BROKER
                || res.resourceType == DescribeConfigsRequest.BROKER_LOGGER) {
                fail(r, ErrorCode.INVALID_REQUEST, "broker configs are static in idemlog: set them in the server's "
                    + "properties file (or --override) and restart");
            } else {
                fail(r, ErrorCode.INVALID_REQUEST, "resource type " + res.resourceType + " is not supported by "
                    + "idemlog (topics: 2)");
            }
        }
        if (todo.isEmpty()) {
            respond(ctx, rsp);
            return;
        }
        step(ctx, rsp, todo, results, 0, req.validateOnly);
    }

    private void step(RequestContext ctx, AlterConfigsResponse rsp, List<AlterConfigsRequest.Resource> todo,
                      List<AlterConfigsResponse.Result> results, int i, boolean validateOnly) {
        broker.runBlocking(ctx, "topic config change", () -> {
            if (!ctx.isConnectionOpen()) {
                return;
            }
            alter(todo.get(i), results.get(i), validateOnly);
            if (i + 1 < todo.size()) {
                step(ctx, rsp, todo, results, i + 1, validateOnly);
            } else {
                respond(ctx, rsp);
            }
        });
    }

    private void alter(AlterConfigsRequest.Resource res, AlterConfigsResponse.Result r, boolean validateOnly) {
        String topic = res.resourceName;
        TopicConfig current = broker.logs().topicConfig(topic);
        if (current == null) {
            fail(r, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic '" + LogSafe.string(topic) + "' does not exist.");
            return;
        }
        Map<String, String> next = incremental ? new TreeMap<>(current.overrides()) : new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (AlterConfigsRequest.Config c : res.configs) {
            if (!seen.add(c.name)) {
                fail(r, ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys: " + LogSafe.string(c.name));
                return;
            }
            String problem = incremental ? applyIncremental(current, next, c) : applyFull(next, c);
            if (problem != null) {
                fail(r, ErrorCode.INVALID_CONFIG, problem);
                return;
            }
        }
        try {
            broker.logs().alterTopicConfig(topic, next, validateOnly);
        } catch (AdminException e) {
            fail(r, e.error(), e.getMessage());
        } catch (IOException e) {
            broker.metrics().storageErrors.increment();
            LOG.error("cannot change the configs of topic {}", LogSafe.string(topic), e);
            fail(r, ErrorCode.KAFKA_STORAGE_ERROR, "storage error: " + e.getMessage());
        }
    }

    private static String applyFull(Map<String, String> next, AlterConfigsRequest.Config c) {
        if (c.value == null) {
            return "Null value not supported for topic configs: " + LogSafe.string(c.name);
        }
        next.put(c.name, c.value);
        return null;
    }

    private static String applyIncremental(TopicConfig current, Map<String, String> next,
                                           AlterConfigsRequest.Config c) {
        switch (c.operation) {
            case AlterConfigsRequest.SET -> {
                if (c.value == null) {
                    return "Null value not supported for topic configs: " + LogSafe.string(c.name);
                }
                next.put(c.name, c.value);
            }
            case AlterConfigsRequest.DELETE -> next.remove(c.name);
            case AlterConfigsRequest.APPEND, AlterConfigsRequest.SUBTRACT -> {
                TopicConfigDef.Key key = current.def().key(c.name);
                if (key == null) {
                    return "unknown topic config '" + LogSafe.string(c.name) + "'";
                }
                if (key.type() != TopicConfigDef.Type.LIST) {
                    return "Config value append/subtract is not allowed for config key '" + c.name
                        + "': it is not a list";
                }
                String base = next.containsKey(c.name) ? next.get(c.name) : current.value(c.name);
                List<String> items = new ArrayList<>();
                for (String s : (base == null ? "" : base).split(",")) {
                    if (!s.isBlank()) {
                        items.add(s.trim());
                    }
                }
                for (String s : (c.value == null ? "" : c.value).split(",")) {
                    String v = s.trim();
                    if (v.isEmpty()) {
                        continue;
                    }
                    if (c.operation == AlterConfigsRequest.APPEND) {
                        if (!items.contains(v)) {
                            items.add(v);
                        }
                    } else {
                        items.remove(v);
                    }
                }
                next.put(c.name, String.join(",", items));
            }
            default -> {
                return "unknown config operation " + c.operation + " for '" + LogSafe.string(c.name) + "'";
            }
        }
        return null;
    }

    /** Answers, counting each resource's error by API and version (the metrics endpoint). */
    private static void respond(RequestContext ctx, AlterConfigsResponse rsp) {
        for (AlterConfigsResponse.Result r : rsp.responses) {
            if (r.errorCode != 0) {
                ctx.countError(ErrorCode.forCode(r.errorCode));
            }
        }
        ctx.respond(rsp);
    }

    private static void fail(AlterConfigsResponse.Result r, ErrorCode error, String message) {
        r.errorCode = error.code;
        r.errorMessage = message;
    }
}
