package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.CreatePartitionsRequest;
import io.idemlog.common.protocol.message.CreatePartitionsResponse;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * CreatePartitions: grows each topic to its new total (INVALID_PARTITIONS when not above the current count,
 * UNKNOWN_TOPIC_OR_PARTITION for an unknown topic, INVALID_REPLICA_ASSIGNMENT unless a manual assignment gives
 * each new partition exactly this node, INVALID_REQUEST for a topic named twice). The new partitions take the
 * topic's configs. Durable before the answer; runs on the storage-io thread, one topic per task.
 */
final class CreatePartitionsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CreatePartitionsHandler.class);

    private final BrokerContext broker;

    CreatePartitionsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.CREATE_PARTITIONS);
        CreatePartitionsRequest req = CreatePartitionsRequest.read(body, ctx.version);
        CreatePartitionsResponse rsp = new CreatePartitionsResponse();
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        for (CreatePartitionsRequest.Topic t : req.topics) {
            if (!seen.add(t.name)) {
                duplicated.add(t.name);
            }
        }
        List<CreatePartitionsRequest.Topic> todo = new ArrayList<>();
        List<CreatePartitionsResponse.Result> results = new ArrayList<>();
        Set<String> answered = new HashSet<>();
        for (CreatePartitionsRequest.Topic t : req.topics) {
            if (duplicated.contains(t.name) && !answered.add(t.name)) {
                continue;
            }
            CreatePartitionsResponse.Result r = new CreatePartitionsResponse.Result();
            r.name = t.name;
            rsp.results.add(r);
            if (duplicated.contains(t.name)) {
                fail(r, ErrorCode.INVALID_REQUEST, "Duplicate topic in request.");
            } else {
                todo.add(t);
                results.add(r);
            }
        }
        if (todo.isEmpty()) {
            respond(ctx, rsp);
            return;
        }
        step(ctx, rsp, todo, results, 0, req.validateOnly);
    }

    private void step(RequestContext ctx, CreatePartitionsResponse rsp, List<CreatePartitionsRequest.Topic> todo,
                      List<CreatePartitionsResponse.Result> results, int i, boolean validateOnly) {
        broker.runBlocking(ctx, "partition creation", () -> {
            if (!ctx.isConnectionOpen()) {
                return;
            }
            grow(todo.get(i), results.get(i), validateOnly);
            if (i + 1 < todo.size()) {
                step(ctx, rsp, todo, results, i + 1, validateOnly);
            } else {
                respond(ctx, rsp);
            }
        });
    }

    private void grow(CreatePartitionsRequest.Topic t, CreatePartitionsResponse.Result r, boolean validateOnly) {
        int current = broker.logs().partitionCount(t.name);
        if (t.assignments != null && current >= 0) {
            int node = broker.config().nodeId;
            if (t.assignments.size() != t.count - current) {
                fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Increasing the number of partitions by "
                    + (t.count - current) + " but " + t.assignments.size() + " assignments provided.");
                return;
            }
            if (broker.logs() instanceof io.idemlog.server.cluster.ClusterLogStore) {
                fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "manual replica assignments are not supported in "
                    + "cluster mode: omit them and the new partitions are placed as topic creation places them");
                return;
            }
            for (int[] brokers : t.assignments) {
                if (brokers.length != 1 || brokers[0] != node) {
                    fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "a new partition is assigned to brokers "
                        + java.util.Arrays.toString(brokers) + ", but this cluster has the one broker " + node);
                    return;
                }
            }
        }
        try {
            broker.logs().createPartitions(t.name, t.count, validateOnly);
        } catch (AdminException e) {
            fail(r, e.error(), e.getMessage());
        } catch (IOException e) {
            broker.metrics().storageErrors.increment();
            LOG.error("cannot add partitions to topic {}", LogSafe.string(t.name), e);
            fail(r, ErrorCode.KAFKA_STORAGE_ERROR, "storage error: " + e.getMessage());
        }
    }

    /** Answers, counting each topic's error by API and version (the metrics endpoint). */
    private static void respond(RequestContext ctx, CreatePartitionsResponse rsp) {
        for (CreatePartitionsResponse.Result r : rsp.results) {
            if (r.errorCode != 0) {
                ctx.countError(ErrorCode.forCode(r.errorCode));
            }
        }
        ctx.respond(rsp);
    }

    private static void fail(CreatePartitionsResponse.Result r, ErrorCode error, String message) {
        r.errorCode = error.code;
        r.errorMessage = message;
    }
}
