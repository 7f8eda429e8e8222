package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.CreateTopicsRequest;
import io.idemlog.common.protocol.message.CreateTopicsResponse;
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
import java.util.UUID;

/**
 * CreateTopics: each topic answered on its own (TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_TOPIC_EXCEPTION,
 * INVALID_REQUEST for a name given twice), with a message saying what is wrong. Partition count -1 is
 * num.partitions; replication factor -1 or 1 (one node); a manual assignment must put every partition 0..n-1 on this
 * node. validate_only checks everything and creates nothing. From v5 a created (or validated) topic is answered with
 * its partition count, replication factor and every effective config with its source; from v7 with its id. The
 * checks that need no disk run on the event loop; the creations run on the storage-io thread, one topic per task.
 */
final class CreateTopicsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CreateTopicsHandler.class);

    private final BrokerContext broker;

    CreateTopicsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    /** A topic that passed the stateless checks: what to create. */
    private record Plan(CreateTopicsResponse.Topic result, int partitions, int replicationFactor,
                        Map<String, String> configs) {
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.CREATE_TOPICS);
        CreateTopicsRequest req = CreateTopicsRequest.read(body, ctx.version);
        CreateTopicsResponse rsp = new CreateTopicsResponse();
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        for (CreateTopicsRequest.Topic t : req.topics) {
            if (!seen.add(t.name)) {
                duplicated.add(t.name);
            }
        }
        List<Plan> plans = new ArrayList<>();
        Set<String> answered = new HashSet<>();
        for (CreateTopicsRequest.Topic t : req.topics) {
            CreateTopicsResponse.Topic r = new CreateTopicsResponse.Topic();
            r.name = t.name;
            if (duplicated.contains(t.name)) {
                if (answered.add(t.name)) {
                    fail(r, ErrorCode.INVALID_REQUEST, "Create topics request from client contains a duplicate "
                        + "topic name: '" + LogSafe.string(t.name) + "'");
                    rsp.topics.add(r);
                }
                continue;
            }
            rsp.topics.add(r);
            Plan plan = plan(t, r);
            if (plan != null) {
                plans.add(plan);
            }
        }
        if (plans.isEmpty()) {
            respond(ctx, rsp);
            return;
        }
        new Creation(ctx, rsp, plans, req.validateOnly).submitNext();
    }

    /** The stateless checks of one topic: null (and the result failed) when it cannot be created. */
    private Plan plan(CreateTopicsRequest.Topic t, CreateTopicsResponse.Topic r) {
        int node = broker.config().nodeId;
        int partitions;
        boolean cluster = broker.config().cluster != null;
        if (!t.assignments.isEmpty() && cluster) {
            fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Manual replica assignments are not supported in cluster "
                + "mode yet: give numPartitions and replicationFactor, replicas are placed round-robin");
            return null;
        }
        if (!t.assignments.isEmpty()) {
            if (t.numPartitions != -1 || t.replicationFactor != -1) {
                fail(r, ErrorCode.INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments "
                    + "were set. Both cannot be used at the same time.");
                return null;
            }
            boolean[] present = new boolean[t.assignments.size()];
            for (CreateTopicsRequest.Assignment a : t.assignments) {
                if (a.partitionIndex < 0 || a.partitionIndex >= present.length || present[a.partitionIndex]) {
                    fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Partitions must be numbered 0.."
                        + (present.length - 1) + " each once; got partition " + a.partitionIndex);
                    return null;
                }
                present[a.partitionIndex] = true;
                if (a.brokerIds.length != 1 || a.brokerIds[0] != node) {
                    fail(r, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Partition " + a.partitionIndex
                        + " is assigned to brokers " + java.util.Arrays.toString(a.brokerIds)
                        + ", but this cluster has the one broker " + node);
                    return null;
                }
            }
            partitions = present.length;
        } else {
            partitions = t.numPartitions == -1 ? broker.config().numPartitions : t.numPartitions;
            if (partitions < 1) {
                fail(r, ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
                return null;
            }
            int brokers = broker.logs().maxReplicationFactor();
            if (t.replicationFactor != -1 && (t.replicationFactor < 1 || t.replicationFactor > brokers)) {
                fail(r, ErrorCode.INVALID_REPLICATION_FACTOR, "Unable to replicate the partition "
                    + t.replicationFactor + " time(s): The target replication factor of " + t.replicationFactor
                    + " cannot be reached because only " + brokers + " broker(s) are registered.");
                return null;
            }
        }
        Map<String, String> configs = new LinkedHashMap<>();
        for (CreateTopicsRequest.Config c : t.configs) {
            if (c.value == null) {
                fail(r, ErrorCode.INVALID_CONFIG, "Null value not supported for topic configs: "
                    + LogSafe.string(c.name));
                return null;
            }
            if (configs.put(c.name, c.value) != null) {
                fail(r, ErrorCode.INVALID_CONFIG, "Config '" + LogSafe.string(c.name) + "' is given twice");
                return null;
            }
        }
        return new Plan(r, partitions, t.assignments.isEmpty() ? t.replicationFactor : -1, configs);
    }

    /** Answers, counting each topic's error by API and version (the metrics endpoint). */
    private static void respond(RequestContext ctx, CreateTopicsResponse rsp) {
        for (CreateTopicsResponse.Topic t : rsp.topics) {
            if (t.errorCode != 0) {
                ctx.countError(ErrorCode.forCode(t.errorCode));
            }
        }
        ctx.respond(rsp);
    }

    private static void fail(CreateTopicsResponse.Topic r, ErrorCode error, String message) {
        r.errorCode = error.code;
        r.errorMessage = message;
        r.numPartitions = -1;
        r.replicationFactor = -1;
        r.configs = null;
    }

    /** The creations of one request, one topic per task on the storage-io thread; the last task answers. */
    private final class Creation {
        private final RequestContext ctx;
        private final CreateTopicsResponse rsp;
        private final List<Plan> plans;
        private final boolean validateOnly;
        private int next;

        Creation(RequestContext ctx, CreateTopicsResponse rsp, List<Plan> plans, boolean validateOnly) {
            this.ctx = ctx;
            this.rsp = rsp;
            this.plans = plans;
            this.validateOnly = validateOnly;
        }

        void submitNext() {
            broker.runBlocking(ctx, "topic creation", this::step);
        }

        private void step() {
            if (!ctx.isConnectionOpen()) {
                return;
            }
            create(plans.get(next++));
            if (next < plans.size()) {
                submitNext();
            } else {
                respond(ctx, rsp);
            }
        }

        private void create(Plan p) {
            CreateTopicsResponse.Topic r = p.result();
            try {
                UUID id = broker.logs().createTopic(r.name, p.partitions(), p.replicationFactor(), p.configs(),
                    validateOnly);
                if (id != null) {
                    r.topicId = id;
                }
                r.numPartitions = p.partitions();
                int rf = validateOnly ? -1 : broker.logs().replicationFactor(r.name);
                if (rf < 0) {
                    rf = p.replicationFactor() != -1 ? p.replicationFactor()
                        : broker.config().cluster == null ? 1 : broker.config().cluster.defaultReplicationFactor();
                }
                r.replicationFactor = (short) rf;
                TopicConfig tc = broker.logs().newTopicConfig(p.configs());
                r.configs = new ArrayList<>();
                for (TopicConfigDef.Key k : tc.def().keys().values()) {
                    r.configs.add(new CreateTopicsResponse.Config(k.name(), tc.value(k.name()), false,
                        tc.source(k.name()).kafkaCode));
                }
            } catch (AdminException e) {
                fail(r, e.error(), e.getMessage());
            } catch (IllegalArgumentException e) {
                fail(r, ErrorCode.INVALID_REQUEST, e.getMessage());
            } catch (IOException e) {
                broker.metrics().storageErrors.increment();
                LOG.error("cannot create topic {}", LogSafe.string(r.name), e);
                fail(r, ErrorCode.KAFKA_STORAGE_ERROR, "storage error: " + e.getMessage());
            }
        }
    }
}
