package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.server.cluster.ClusterImage;
import io.idemlog.server.cluster.ClusterLogStore;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.config.TopicNames;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Metadata: this one server as the only broker, leader of every partition. Topics named in the request are created
 * when missing if both the server (auto.create.topics.enable) and the client allow it; the creation runs on the
 * storage-io thread ({@link BrokerContext#runBlocking}) and the answer is sent from there once every topic exists.
 * A storage failure gives that topic KAFKA_STORAGE_ERROR; a bug closes the connection (and is counted). A topic named twice is
 * answered once. Leader epoch (v7+) is the partition's ({@link Partition#leaderEpoch()}: 0 on a single node), so
 * clients validate their positions with OffsetForLeaderEpoch (KIP-320) after a seek to an offset with an epoch, as
 * against Kafka; the leader is {@link Partition#leaderId()}, -1 meaning this node. From v10 every topic
 * carries its id, and a topic asked for by id alone is found by it (UNKNOWN_TOPIC_ID when no topic has it).
 *
 * <p>Cluster mode ({@link ClusterLogStore}): every registered broker, the metadata group's leader as the controller,
 * and per partition the replicas, leader and leader epoch of the replicated metadata (see
 * {@link #addClusterPartitions}); auto-created topics get default.replication.factor.
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
        ClusterLogStore cluster = broker.logs() instanceof ClusterLogStore c ? c : null;
        rsp.clusterId = broker.clusterId();
        if (cluster == null) {
            rsp.brokers.add(advertised(ctx, config));
            rsp.controllerId = config.nodeId;
        } else {
            rsp.brokers.addAll(clusterBrokers(ctx, config, cluster.image()));
            rsp.controllerId = cluster.metadataLeaderId();
        }

        Set<String> names = new LinkedHashSet<>();
        if (req.topics == null) {
            names.addAll(new TreeMap<>(broker.logs().topics()).keySet());
        } else {
            for (int i = 0; i < req.topics.size(); i++) {
                String name = req.topics.get(i);
                java.util.UUID id = req.topicIds == null ? null : req.topicIds.get(i);
                if (name == null) {
                    // v10+: asked for by topic id
                    name = id == null ? null : broker.logs().topicName(id);
                    if (name == null) {
                        MetadataResponse.Topic t = new MetadataResponse.Topic();
                        t.errorCode = ErrorCode.UNKNOWN_TOPIC_ID.code;
                        ctx.countError(ErrorCode.UNKNOWN_TOPIC_ID);
                        t.name = null;
                        if (id != null) {
                            t.topicId = id;
                        }
                        rsp.topics.add(t);
                        continue;
                    }
                }
                names.add(name);
            }
        }
        List<MetadataResponse.Topic> toCreate = null;
        for (String name : names) {
            MetadataResponse.Topic t = new MetadataResponse.Topic();
            t.name = name;
            rsp.topics.add(t);
            int partitions = broker.logs().partitionCount(name);
            if (partitions >= 0) {
                addPartitions(t, partitions);
            } else if (!TopicNames.isValid(name)) {
                t.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION.code;
                ctx.countError(ErrorCode.INVALID_TOPIC_EXCEPTION);
            } else if (config.autoCreateTopics && req.allowAutoTopicCreation) {
                if (toCreate == null) {
                    toCreate = new ArrayList<>();
                }
                toCreate.add(t);
            } else {
                t.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code;
                ctx.countError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
        if (toCreate == null) {
            ctx.respond(rsp);
        } else {
            // Creating a topic makes directories and fsyncs files: never on the event loop.
            new AutoCreation(ctx, rsp, toCreate).submitNext();
        }
    }

    /**
     * Every registered broker of the cluster image (the latest registration of each), and this node as it
     * advertises itself when its own registration is not applied yet (a client must always find the node it asked).
     */
    static List<MetadataResponse.Broker> clusterBrokers(RequestContext ctx, ServerConfig config, ClusterImage image) {
        List<MetadataResponse.Broker> out = new ArrayList<>();
        for (ClusterImage.BrokerState b : image.brokers().values()) {
            out.add(new MetadataResponse.Broker(b.nodeId(), b.host(), b.port()));
        }
        if (image.broker(config.nodeId) == null) {
            out.add(advertised(ctx, config));
        }
        return out;
    }

    /**
     * Cluster mode: each partition as the replicated metadata has it: replicas (the ISR is reported as all of
     * them: Raft keeps no ISR, a majority commits), and the leader and leader epoch of the last LeaderChanged, or a
     * newer leader this node's replica of the partition already follows ({@link ClusterLogStore#newerLeader}). A
     * partition whose leader never became ready (epoch 0) or is not a registered broker is LEADER_NOT_AVAILABLE
     * with leader -1, which clients retry. So is a partition whose leader so found is THIS node while its replica
     * here does not lead (it lost its majority, e.g. cut off from the other nodes, and so cannot learn the newer
     * LeaderChanged either): naming itself would send clients back to a node that refuses their writes.
     */
    private void addClusterPartitions(MetadataResponse.Topic t, ClusterLogStore cluster, ClusterImage image,
                                      ClusterImage.TopicState topic) {
        t.topicId = topic.id();
        for (int p = 0; p < topic.partitions().size(); p++) {
            ClusterImage.PartitionState s = topic.partitions().get(p);
            MetadataResponse.Partition mp = new MetadataResponse.Partition();
            mp.partitionIndex = p;
            int[] replicas = new int[s.replicas().size()];
            for (int i = 0; i < replicas.length; i++) {
                replicas[i] = s.replicas().get(i);
            }
            mp.replicaNodes = replicas;
            mp.isrNodes = replicas;
            long newer = cluster.newerLeader(topic.name(), p, s.leaderEpoch());
            int leader = newer >= 0 ? (int) newer : s.leader();
            int epoch = newer >= 0 ? (int) (newer >>> 32) : s.leaderEpoch();
            if (epoch == 0 || image.broker(leader) == null
                || (leader == broker.config().nodeId && !leadsHere(topic.name(), p))) {
                mp.errorCode = ErrorCode.LEADER_NOT_AVAILABLE.code;
                mp.leaderId = -1;
                mp.leaderEpoch = s.leaderEpoch();
            } else {
                mp.leaderId = leader;
                mp.leaderEpoch = epoch;
            }
            t.partitions.add(mp);
        }
    }

    private boolean leadsHere(String topic, int partition) {
        Partition here = broker.logs().partition(topic, partition);
        return here != null && here.role() == PartitionRole.LEADER;
    }

    private void addPartitions(MetadataResponse.Topic t, int partitions) {
        if (broker.logs() instanceof ClusterLogStore cluster) {
            ClusterImage image = cluster.image();
            ClusterImage.TopicState topic = image.topic(t.name);
            if (topic != null) {
                addClusterPartitions(t, cluster, image, topic);
            } else {
                t.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code; // deleted in between
            }
            return;
        }
        int node = broker.config().nodeId;
        java.util.UUID id = broker.logs().topicId(t.name);
        if (id != null) {
            t.topicId = id;
        }
        for (int p = 0; p < partitions; p++) {
            MetadataResponse.Partition mp = new MetadataResponse.Partition();
            mp.partitionIndex = p;
            Partition partition = broker.logs().partition(t.name, p);
            int leader = partition == null ? -1 : partition.leaderId();
            mp.leaderId = leader == -1 ? node : leader;
            mp.leaderEpoch = partition == null ? 0 : partition.leaderEpoch();
            mp.replicaNodes = new int[] {node};
            mp.isrNodes = mp.replicaNodes;
            t.partitions.add(mp);
        }
    }

    /**
     * The topics of one Metadata request that must be created, one per task on the storage-io thread (so that
     * other connections' blocking work interleaves with a request naming thousands of topics); the last task
     * answers. Touched by one task at a time; the topics it fills are not read until the answer.
     */
    private final class AutoCreation {
        private final RequestContext ctx;
        private final MetadataResponse rsp;
        private final List<MetadataResponse.Topic> topics;
        private int next;

        AutoCreation(RequestContext ctx, MetadataResponse rsp, List<MetadataResponse.Topic> topics) {
            this.ctx = ctx;
            this.rsp = rsp;
            this.topics = topics;
        }

        void submitNext() {
            broker.runBlocking(ctx, "topic auto-creation", this::step);
        }

        private void step() {
            if (!ctx.isConnectionOpen()) {
                return; // nobody to answer; the topics not created yet are created when asked for again
            }
            MetadataResponse.Topic t = topics.get(next++);
            t.errorCode = create(t);
            ctx.countError(ErrorCode.forCode(t.errorCode));
            if (next < topics.size()) {
                submitNext();
            } else {
                ctx.respond(rsp);
            }
        }

        private short create(MetadataResponse.Topic t) {
            int partitions;
            try {
                if (broker.logs() instanceof ClusterLogStore cluster) {
                    // default.replication.factor; a refusal (too few brokers registered yet, a timeout) is the
                    // topic's error, which clients retry or report
                    try {
                        cluster.createTopic(t.name, broker.config().numPartitions, -1, java.util.Map.of(), false);
                    } catch (AdminException e) {
                        if (e.error() != ErrorCode.TOPIC_ALREADY_EXISTS) {
                            LOG.warn("cannot auto-create topic {}: {}", t.name, e.getMessage());
                            return e.error().code;
                        }
                    }
                    partitions = cluster.partitionCount(t.name);
                } else {
                    partitions = broker.logs().createTopic(t.name, broker.config().numPartitions);
                }
            } catch (IOException e) {
                broker.metrics().storageErrors.increment();
                LOG.error("cannot create topic {}", t.name, e);
                return ErrorCode.KAFKA_STORAGE_ERROR.code;
            }
            LOG.info("auto-created topic {} with {} partitions", t.name, partitions);
            addPartitions(t, partitions);
            return ErrorCode.NONE.code;
        }
    }

    /** advertised.listeners, or the listener's host with the port this connection actually reached. */
    static MetadataResponse.Broker advertised(RequestContext ctx, ServerConfig config) {
        if (config.advertisedListener != null) {
            return new MetadataResponse.Broker(config.nodeId, config.advertisedListener.host(),
                config.advertisedListener.port());
        }
        int port = ctx.localAddress() instanceof InetSocketAddress a ? a.getPort() : config.listener.port();
        return new MetadataResponse.Broker(config.nodeId, config.listener.host(), port);
    }
}
