package io.idemlog.server.config;

import io.idemlog.server.cluster.ClusterConfig;
import io.idemlog.server.log.DedupConfig;
import io.idemlog.server.group.GroupConfig;
import io.idemlog.server.log.LogConfig;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import static io.idemlog.server.config.ConfigDef.Type.BOOLEAN;
import static io.idemlog.server.config.ConfigDef.Type.INT;
import static io.idemlog.server.config.ConfigDef.Type.LIST;
import static io.idemlog.server.config.ConfigDef.Type.LONG;
import static io.idemlog.server.config.ConfigDef.Type.STRING;

/**
 * The server's configuration: Kafka's property names where the meaning is the same, validated once at start-up.
 * Built from an optional properties file plus overrides (flags win). Every property is listed, with default and
 * meaning, in {@link #describe()} (printed by {@code --help}) and docs/CONFIGURATION.md.
 */
public final class ServerConfig {
    static final ConfigDef DEF = new ConfigDef()
        .define("listeners", STRING, "PLAINTEXT://127.0.0.1:9092",
            "The one listener to bind, PLAINTEXT://host:port. Port 0 picks a free port.")
        .define("advertised.listeners", STRING, null,
            "The address clients are told to connect to (Metadata), PLAINTEXT://host:port. Default: listeners "
                + "(with the actual port when listeners uses port 0).")
        .define("log.dirs", STRING, null, "The data directory (one). Overrides log.dir.")
        .define("log.dir", STRING, "idemlog-data", "The data directory when log.dirs is not set. Relative paths "
            + "are resolved against the working directory.")
        .define("node.id", INT, "1", 0, Integer.MAX_VALUE, "This server's node id, as reported in Metadata.")
        .define("broker.id", INT, null, 0, Integer.MAX_VALUE, "Alias of node.id (must agree with it if both are set).")
        .define("cluster.id", STRING, null, "Cluster id reported in Metadata. Default: generated once and kept in "
            + "<data dir>/meta.properties.")
        .define("controller.quorum.voters", STRING, "",
            "Cluster mode (docs/REPLICATION.md): every node of the cluster as id@host:port[,id@host:port]..., the "
                + "port being that node's Raft (gRPC) endpoint, not its Kafka listener; the voters of the replicated "
                + "metadata group (KRaft's name). Every node lists the same voters and its own node.id among them. "
                + "Empty = single node (as without it). In cluster mode every partition is a Raft group on its "
                + "replicas (docs/CONFIGURATION.md, \"Cluster mode\", lists what is not available there yet).")
        .define("default.replication.factor", INT, null, 1, Short.MAX_VALUE,
            "Replicas of a topic created without its own replication factor. Default: 1 on a single node, "
                + "min(3, voters) in a cluster; at most the number of controller.quorum.voters (a single node accepts "
                + "only 1).")
        .define("min.insync.replicas", INT, null, 1, Short.MAX_VALUE,
            "Replicas that must have an acks=all write before it is acknowledged. Default: 1 on a single node, "
                + "min(2, default.replication.factor) in a cluster; at most default.replication.factor (a single node "
                + "accepts only 1).")
        .define("replication.election.timeout.ms", LONG, "1000", 50, 600_000,
            "Cluster mode: Raft election timeout, Ratis's raft.server.rpc.timeout.min (the max is twice it). A "
                + "follower that hears nothing from its leader for a random time in [this, 2 x this] starts an "
                + "election; on 2 shared cores 1 s avoids spurious elections (docs/REPLICATION.md §3). It also "
                + "bounds a leader's retries to a follower that failed or is down: at most a quarter of it (at least "
                + "50 ms) between attempts, so a restarted node or a late-added replica gets its entries within "
                + "~0.4 s (REPLICATION.md 8, liveness failure 1).")
        .define("replication.listen.port", INT, null, 1, 65535,
            "Cluster mode: the port this node's Raft (gRPC) server binds, on the host of its own "
                + "controller.quorum.voters entry. Default: that entry's port. Set it when the voters entry is an "
                + "address that forwards to this one (a proxy, NAT, a container port mapping), as listeners vs "
                + "advertised.listeners for the Kafka listener.")
        .define("replication.dir", STRING, null,
            "Cluster mode: Ratis's storage (Raft logs and state machine snapshots). Default: <data dir>/raft.")
        .define("replica.lag.time.max.ms", LONG, "30000", 100, 3_600_000,
            "Cluster mode: a follower that has not answered its leader for longer than this is out of sync, as in "
                + "Kafka: acks=all is refused with NOT_ENOUGH_REPLICAS while fewer replicas than the topic's "
                + "min.insync.replicas are in sync (the Raft commit itself always needs a majority).")
        .define("num.partitions", INT, "1", 1, 100_000, "Partitions of an auto-created topic.")
        .define("auto.create.topics.enable", BOOLEAN, "true",
            "Create a topic named in a Metadata request when it does not exist and the client allows it.")
        .define("create.topics", LIST, "", "Topics to create at start if missing: name:partitions[,name:partitions].")
        .define("log.segment.bytes", INT, "1073741824", 1024, Integer.MAX_VALUE,
            "Roll the active segment once it reaches this size.")
        .define("log.roll.ms", LONG, null, 1, Long.MAX_VALUE, "Roll the active segment once its first batch is this "
            + "old. Overrides log.roll.hours.")
        .define("log.roll.hours", INT, "168", 1, Integer.MAX_VALUE, "log.roll.ms in hours.")
        .define("log.retention.ms", LONG, null, -1, Long.MAX_VALUE, "Delete whole segments whose newest record is "
            + "older than this; -1 keeps them forever. Overrides log.retention.minutes and log.retention.hours.")
        .define("log.retention.minutes", INT, null, -1, Integer.MAX_VALUE, "log.retention.ms in minutes.")
        .define("log.retention.hours", INT, "168", -1, Integer.MAX_VALUE, "log.retention.ms in hours.")
        .define("log.retention.bytes", LONG, "-1", -1, Long.MAX_VALUE,
            "Delete the oldest segments while a partition is larger than this; -1 = no size limit.")
        .define("log.retention.check.interval.ms", LONG, "300000", 1, Long.MAX_VALUE, "How often retention runs.")
        .define("log.index.interval.bytes", INT, "4096", 0, Integer.MAX_VALUE,
            "One sparse index entry per this many bytes of log.")
        .define("log.segment.delete.delay.ms", LONG, "60000", 0, Long.MAX_VALUE,
            "A segment removed by retention stays readable this long for fetches in flight.")
        .define("log.preallocate", BOOLEAN, "true",
            "Keep the active segment zero-filled a few MiB ahead of the write position, so that each fsync "
                + "overwrites allocated blocks instead of also committing file-size metadata (halves the fsync "
                + "latency on ext4). Segments are trimmed to their data when sealed or closed; recovery ignores "
                + "the zeros.")
        .define("log.message.timestamp.type", STRING, "CreateTime",
            "Broker default of message.timestamp.type for topics without their own: CreateTime stores the "
                + "producer's timestamps as sent; LogAppendTime stamps each batch with the server's time as it is "
                + "appended (consumers take it as every record's timestamp).")
        .define("log.flush.thread", STRING, "auto",
            "Which thread fsyncs for acks=all answers (group commit either way: one fsync covers every batch "
                + "appended since the last). Decided per read burst (the requests of one socket read), for the "
                + "partitions that burst appended to. flusher: the dedicated flusher thread, woken once per "
                + "partition per burst, while the network threads go on reading and appending (disk and CPU overlap; "
                + "the answers it completes go back to each connection's event loop in one batch). network: the "
                + "network thread that read the requests, at the end of each burst, once per partition (no hand-off: "
                + "lowest latency when idle; reading stops while it fsyncs). auto (the default): network when the "
                + "burst appended to one partition, flusher when to more than one (docs/BENCHMARKS.md, "
                + "log.flush.thread=auto: as fast as or faster than flusher in every measured row).")
        .define("message.max.bytes", INT, "1048588", 64, Integer.MAX_VALUE,
            "Largest record batch accepted from a producer (bytes, batch header included). A compressed batch may "
                + "decompress to at most 16 times this (checked while validating it; more is MESSAGE_TOO_LARGE: "
                + "docs/PROTOCOL.md, Compression).")
        .define("producer.id.expiration.ms", INT, "86400000", 1, Integer.MAX_VALUE,
            "Drop a producer's idempotence state after this long without a write (server clock).")
        .define("producer.id.expiration.check.interval.ms", INT, "600000", 1, Integer.MAX_VALUE,
            "How often expired producer state is removed.")
        .define("producer.state.max.producers.per.partition", INT, "100000", 1, 100_000_000,
            "Producers whose state a partition keeps (about 150 bytes each); beyond it one is evicted (counted in "
                + "producer_state.evictions) by a segmented LRU: producers that wrote one batch go first, so a storm "
                + "of new producer ids cannot evict the 90 % most recently written producers that wrote at least two "
                + "batches (docs/ARCHITECTURE.md, producer state).")
        .define("log.dedup.header", STRING, "",
            "De-duplication keys, broker default for topics without their own dedup.header: the record header "
                + "whose value is a record's de-duplication key. A record whose key was stored in the same "
                + "partition within log.dedup.window.ms is not stored again (its offset stays a hole); empty = off "
                + "(docs/DEDUP.md).")
        .define("log.dedup.window.ms", LONG, "120000", 1, Long.MAX_VALUE,
            "How long (server append time) a stored de-duplication key keeps later records with it out; broker "
                + "default of dedup.window.ms.")
        .define("log.dedup.max.keys", INT, "1000000", 1, 1 << 29,
            "De-duplication keys kept per partition (24 bytes each in the window, plus its index); beyond it the "
                + "oldest is evicted before its window ends (counted). Broker default of dedup.max.keys.")
        .define("socket.request.max.bytes", INT, "104857600", 64, Integer.MAX_VALUE,
            "Largest request frame accepted; a larger one closes the connection.")
        .define("queued.max.request.bytes", LONG, "268435456", -1, Long.MAX_VALUE,
            "Bytes of requests, over all connections, being read or waiting to be handled. A connection reserves a "
                + "frame's size before buffering it; when the bound is reached, connections stop reading (TCP "
                + "back-pressure, no error) until memory is released. Must be at least socket.request.max.bytes; "
                + "-1 or 0 = no bound.")
        .define("socket.request.read.timeout.ms", LONG, "30000", 0, Long.MAX_VALUE,
            "A request frame whose first byte has arrived must be complete within this long (counted while the "
                + "server reads from the connection), else the connection is closed: a client trickling bytes "
                + "cannot hold a connection and its memory forever. 0 = no deadline.")
        .define("num.network.threads", INT, "0", 0, 256,
            "Network (event loop) threads; requests are handled on them. 0 = one per core, at most 4.")
        .define("queued.max.requests.per.connection", INT, "100", 1, 100_000,
            "Requests a connection may have waiting for their answer (e.g. for fsync) before the server stops "
                + "reading from it.")
        .define("produce.non.idempotent.one.at.a.time", BOOLEAN, "true",
            "A Produce request with a batch that has no producer id (a producer without idempotence) holds the "
                + "connection's reading until it is answered, as Kafka's broker reads one request per connection at "
                + "a time. Such a producer re-sends every request in flight after a connection reset: requests not "
                + "yet read are then lost with the connection instead of stored twice. Costs such producers their "
                + "pipelining (one fsync per request with acks=all); idempotent producers are not affected.")
        .define("connections.max.idle.ms", LONG, "600000", 1, Long.MAX_VALUE,
            "Close connections idle for longer than this.")
        .define("group.min.session.timeout.ms", INT, "6000", 1, Integer.MAX_VALUE,
            "Smallest session.timeout.ms a group member may ask for (smaller: INVALID_SESSION_TIMEOUT).")
        .define("group.max.session.timeout.ms", INT, "1800000", 1, Integer.MAX_VALUE,
            "Largest session.timeout.ms a group member may ask for.")
        .define("group.initial.rebalance.delay.ms", INT, "3000", 0, Integer.MAX_VALUE,
            "How long the first rebalance of an empty group waits for more members (each new member extends it, up "
                + "to the rebalance timeout).")
        .define("group.max.size", INT, String.valueOf(Integer.MAX_VALUE), 1, Integer.MAX_VALUE,
            "Members per consumer group (more: GROUP_MAX_SIZE_REACHED).")
        .define("offsets.retention.minutes", INT, "10080", 1, Integer.MAX_VALUE,
            "Committed offsets of a group are removed this long after the group became empty (a group that only "
                + "commits, without members: after each commit; a Stable consumer group: the offsets of topics it "
                + "does not subscribe to, after their commit). Kafka's rule; survives restarts.")
        .define("offsets.retention.check.interval.ms", LONG, "600000", 1, Long.MAX_VALUE,
            "How often expired committed offsets are looked for.")
        .define("offset.metadata.max.bytes", INT, "4096", 0, Integer.MAX_VALUE,
            "Longest commit metadata string (UTF-8 bytes; longer: OFFSET_METADATA_TOO_LARGE).")
        .define("offsets.compact.bytes", LONG, "16777216", 1, Long.MAX_VALUE,
            "The committed-offsets log is rewritten as one snapshot once it is larger than this and than the last "
                + "snapshot (idemlog; bounds what a restart reads).")
        .define("metrics.log.interval.ms", LONG, "60000", 0, Long.MAX_VALUE,
            "Log the server's counters (requests, batches, duplicates, errors, producers kept and evicted) this "
                + "often; 0 = never.")
        .define("metrics.listener", STRING, "",
            "The Prometheus text endpoint, http://host:port (served at /metrics; port 0 picks a free port). Empty = "
                + "no endpoint (the default: an HTTP port nobody asked for is a surprise and an exposure; bind it to "
                + "127.0.0.1 unless a scraper elsewhere needs it). docs/OPERATIONS.md lists every metric.")
        .define("metrics.jmx.enable", BOOLEAN, "true",
            "Register every metric as a JMX MBean (in-process only, reachable remotely only when the JVM's own "
                + "com.sun.management.jmxremote options are set).")
        .define("metrics.jmx.domain", STRING, "idemlog", "The JMX domain of the metrics' MBeans.");

    /** A parsed PLAINTEXT://host:port. */
    public record Endpoint(String host, int port) {
        static Endpoint parse(String name, String value) {
            String prefix = "PLAINTEXT://";
            if (value.contains(",")) {
                throw new ConfigException(name + "=" + value + ": only one listener is supported");
            }
            if (!value.startsWith(prefix)) {
                throw new ConfigException(name + "=" + value + ": must be PLAINTEXT://host:port (no other security "
                    + "protocol is supported)");
            }
            String hostPort = value.substring(prefix.length());
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new ConfigException(name + "=" + value + ": missing :port");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException(name + "=" + value + ": bad port");
            }
            if (port < 0 || port > 65535) {
                throw new ConfigException(name + "=" + value + ": port out of range");
            }
            return new Endpoint(host, port);
        }

        @Override
        public String toString() {
            return "PLAINTEXT://" + host + ":" + port;
        }
    }

    private final Map<String, String> values;
    /** The property names the operator set (file or flags), as given. */
    private final java.util.Set<String> explicitlySet;
    public final Endpoint listener;
    public final Endpoint advertisedListener;
    public final Path dataDir;
    /** From node.id, or its alias broker.id. */
    public final int nodeId;
    public final String clusterId;
    public final int numPartitions;
    public final boolean autoCreateTopics;
    public final Map<String, Integer> createTopics;
    public final LogConfig log;
    public final int socketRequestMaxBytes;
    public final int networkThreads;
    public final int maxQueuedRequestsPerConnection;
    /** produce.non.idempotent.one.at.a.time. */
    public final boolean oneAtATimeNonIdempotent;
    public final long connectionsMaxIdleMs;
    public final long metricsLogIntervalMs;
    /** metrics.listener's host, or null when there is no endpoint. */
    public final String metricsHost;
    /** metrics.listener's port (0: a free one). */
    public final int metricsPort;
    public final boolean metricsJmx;
    public final String metricsJmxDomain;
    /** log.flush.thread: who starts the group commit (the fsync) of an acks=all append. */
    public final FlushThread flushThread;
    public final long maxRequestBytes;
    public final long requestReadTimeoutMs;
    /** The group coordinator's settings (group.*, offsets.*, offset.metadata.max.bytes). */
    public final GroupConfig groups;
    /** offsets.compact.bytes. */
    public final long offsetsCompactBytes;
    /** replica.lag.time.max.ms (cluster mode: in-sync replicas for min.insync.replicas). */
    public final long replicaLagTimeMaxMs;
    /** Cluster mode's settings (controller.quorum.voters and the rest), or null on a single node. */
    public final ClusterConfig cluster;

    private ServerConfig(Map<String, String> raw) {
        values = DEF.parse(raw);
        java.util.Set<String> set = new java.util.TreeSet<>();
        for (String k : raw.keySet()) {
            set.add(k.trim());
        }
        explicitlySet = java.util.Collections.unmodifiableSet(set);
        listener = Endpoint.parse("listeners", values.get("listeners"));
        String advertised = values.get("advertised.listeners");
        if (advertised != null) {
            advertisedListener = Endpoint.parse("advertised.listeners", advertised);
            if (advertisedListener.port() == 0) {
                throw new ConfigException("advertised.listeners must name a real port, not 0");
            }
            if (advertisedListener.host().isEmpty() || advertisedListener.host().equals("0.0.0.0")) {
                throw new ConfigException("advertised.listeners must name a host clients can reach");
            }
        } else {
            if (listener.host().isEmpty() || listener.host().equals("0.0.0.0") || listener.host().equals("::")) {
                throw new ConfigException("listeners binds every interface (" + listener
                    + "): set advertised.listeners to the address clients should use");
            }
            advertisedListener = null;
        }
        String dirs = values.get("log.dirs") != null ? values.get("log.dirs") : values.get("log.dir");
        if (dirs.isBlank() || dirs.contains(",")) {
            throw new ConfigException("log.dirs=" + dirs + ": exactly one data directory is supported");
        }
        dataDir = Paths.get(dirs.trim()).toAbsolutePath().normalize();
        int node = Integer.parseInt(values.get("node.id"));
        if (values.get("broker.id") != null) {
            int brokerId = Integer.parseInt(values.get("broker.id"));
            if (raw.containsKey("node.id") && brokerId != node) {
                throw new ConfigException("node.id=" + node + " and broker.id=" + brokerId + " disagree");
            }
            node = brokerId;
        }
        nodeId = node;
        clusterId = values.get("cluster.id");
        numPartitions = Integer.parseInt(values.get("num.partitions"));
        autoCreateTopics = Boolean.parseBoolean(values.get("auto.create.topics.enable"));
        createTopics = parseTopics(values.get("create.topics"));

        long rollMs = values.get("log.roll.ms") != null ? Long.parseLong(values.get("log.roll.ms"))
            : Long.parseLong(values.get("log.roll.hours")) * 3_600_000L;
        long retentionMs;
        if (values.get("log.retention.ms") != null) {
            retentionMs = Long.parseLong(values.get("log.retention.ms"));
        } else if (values.get("log.retention.minutes") != null) {
            long m = Long.parseLong(values.get("log.retention.minutes"));
            retentionMs = m < 0 ? -1 : m * 60_000L;
        } else {
            long h = Long.parseLong(values.get("log.retention.hours"));
            retentionMs = h < 0 ? -1 : h * 3_600_000L;
        }
        int maxBatch = Integer.parseInt(values.get("message.max.bytes"));
        int segmentBytes = Integer.parseInt(values.get("log.segment.bytes"));
        log = new LogConfig(
            segmentBytes,
            rollMs,
            retentionMs,
            Long.parseLong(values.get("log.retention.bytes")),
            Long.parseLong(values.get("log.retention.check.interval.ms")),
            Integer.parseInt(values.get("log.index.interval.bytes")),
            maxBatch,
            Long.parseLong(values.get("producer.id.expiration.ms")),
            Long.parseLong(values.get("producer.id.expiration.check.interval.ms")),
            Integer.parseInt(values.get("producer.state.max.producers.per.partition")),
            Long.parseLong(values.get("log.segment.delete.delay.ms")),
            Boolean.parseBoolean(values.get("log.preallocate")),
            new DedupConfig(values.get("log.dedup.header").trim(), Long.parseLong(values.get("log.dedup.window.ms")),
                Integer.parseInt(values.get("log.dedup.max.keys"))),
            logAppendTime(values.get("log.message.timestamp.type")));
        socketRequestMaxBytes = Integer.parseInt(values.get("socket.request.max.bytes"));
        int threads = Integer.parseInt(values.get("num.network.threads"));
        networkThreads = threads > 0 ? threads : Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        maxQueuedRequestsPerConnection = Integer.parseInt(values.get("queued.max.requests.per.connection"));
        oneAtATimeNonIdempotent = Boolean.parseBoolean(values.get("produce.non.idempotent.one.at.a.time"));
        connectionsMaxIdleMs = Long.parseLong(values.get("connections.max.idle.ms"));
        metricsLogIntervalMs = Long.parseLong(values.get("metrics.log.interval.ms"));
        String metricsListener = values.get("metrics.listener").trim();
        if (metricsListener.isEmpty()) {
            metricsHost = null;
            metricsPort = 0;
        } else {
            if (!metricsListener.startsWith("http://") || metricsListener.indexOf('/', 7) >= 0) {
                throw new ConfigException("metrics.listener=" + metricsListener + ": must be http://host:port "
                    + "(the path is always /metrics; no https)");
            }
            Endpoint e = Endpoint.parse("metrics.listener", "PLAINTEXT://" + metricsListener.substring(7));
            metricsHost = e.host().isEmpty() ? "0.0.0.0" : e.host();
            metricsPort = e.port();
        }
        metricsJmx = Boolean.parseBoolean(values.get("metrics.jmx.enable"));
        metricsJmxDomain = values.get("metrics.jmx.domain").trim();
        if (metricsJmx && metricsJmxDomain.isEmpty()) {
            throw new ConfigException("metrics.jmx.domain must not be empty");
        }
        String flushThread = values.get("log.flush.thread");
        // (log.message.timestamp.type was checked by logAppendTime above)
        this.flushThread = switch (flushThread) {
            case "network" -> FlushThread.NETWORK;
            case "flusher" -> FlushThread.FLUSHER;
            case "auto" -> FlushThread.AUTO;
            default -> throw new ConfigException("log.flush.thread: '" + flushThread
                + "' must be network, flusher or auto");
        };
        maxRequestBytes = Long.parseLong(values.get("queued.max.request.bytes"));
        if (maxRequestBytes > 0 && maxRequestBytes < socketRequestMaxBytes) {
            throw new ConfigException("queued.max.request.bytes=" + maxRequestBytes
                + " is below socket.request.max.bytes=" + socketRequestMaxBytes
                + ": a request of the largest accepted size could never be read");
        }
        requestReadTimeoutMs = Long.parseLong(values.get("socket.request.read.timeout.ms"));
        groups = new GroupConfig(Integer.parseInt(values.get("group.min.session.timeout.ms")),
            Integer.parseInt(values.get("group.max.session.timeout.ms")),
            Integer.parseInt(values.get("group.initial.rebalance.delay.ms")),
            Integer.parseInt(values.get("group.max.size")),
            Integer.parseInt(values.get("offsets.retention.minutes")) * 60_000L,
            Long.parseLong(values.get("offsets.retention.check.interval.ms")),
            Integer.parseInt(values.get("offset.metadata.max.bytes")));
        if (groups.minSessionTimeoutMs() > groups.maxSessionTimeoutMs()) {
            throw new ConfigException("group.min.session.timeout.ms=" + groups.minSessionTimeoutMs()
                + " is above group.max.session.timeout.ms=" + groups.maxSessionTimeoutMs());
        }
        offsetsCompactBytes = Long.parseLong(values.get("offsets.compact.bytes"));
        cluster = parseCluster(raw);
        replicaLagTimeMaxMs = Long.parseLong(values.get("replica.lag.time.max.ms"));
    }

    private ClusterConfig parseCluster(Map<String, String> raw) {
        Integer rf = values.get("default.replication.factor") == null ? null
            : Integer.valueOf(values.get("default.replication.factor"));
        Integer minIsr = values.get("min.insync.replicas") == null ? null
            : Integer.valueOf(values.get("min.insync.replicas"));
        String voters = values.get("controller.quorum.voters").trim();
        if (voters.isEmpty()) {
            if (rf != null && rf != 1) {
                throw new ConfigException("default.replication.factor=" + rf + " needs a cluster "
                    + "(controller.quorum.voters); a single node keeps one replica");
            }
            if (minIsr != null && minIsr != 1) {
                throw new ConfigException("min.insync.replicas=" + minIsr + " needs a cluster "
                    + "(controller.quorum.voters); a single node has one replica");
            }
            if (values.get("replication.listen.port") != null) {
                throw new ConfigException("replication.listen.port needs a cluster (controller.quorum.voters): a "
                    + "single node runs no Raft server");
            }
            return null;
        }
        boolean nodeIdSet = explicitlySet.contains("node.id") || explicitlySet.contains("broker.id");
        String raftDir = values.get("replication.dir");
        return ClusterConfig.parse(nodeId, nodeIdSet, voters, rf, minIsr,
            Long.parseLong(values.get("replication.election.timeout.ms")),
            raftDir != null ? Paths.get(raftDir.trim()).toAbsolutePath().normalize() : dataDir.resolve("raft"),
            values.get("replication.listen.port") == null ? 0 : Integer.parseInt(values.get("replication.listen.port")));
    }

    private static Map<String, Integer> parseTopics(String spec) {
        Map<String, Integer> topics = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            return topics;
        }
        for (String item : spec.split(",")) {
            String t = item.trim();
            if (t.isEmpty()) {
                continue;
            }
            int colon = t.lastIndexOf(':');
            if (colon <= 0) {
                throw new ConfigException("create.topics: '" + t + "' must be name:partitions");
            }
            String name = t.substring(0, colon);
            int partitions;
            try {
                partitions = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException("create.topics: '" + t + "': bad partition count");
            }
            if (partitions < 1 || partitions > 100_000) {
                throw new ConfigException("create.topics: '" + t + "': partitions must be in [1, 100000]");
            }
            if (!TopicNames.isValid(name)) {
                throw new ConfigException("create.topics: '" + name + "' is not a legal topic name "
                    + TopicNames.RULE);
            }
            topics.put(name, partitions);
        }
        return topics;
    }

    /** Builds the configuration from raw properties (the file's, then overrides applied on top). */
    public static ServerConfig of(Map<String, String> props) {
        return new ServerConfig(props);
    }

    /** Loads a properties file and applies overrides on top of it. */
    public static ServerConfig load(Path file, Map<String, String> overrides) throws IOException {
        Map<String, String> props = new LinkedHashMap<>();
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
            for (String name : p.stringPropertyNames()) {
                props.put(name, p.getProperty(name));
            }
        }
        props.putAll(overrides);
        return new ServerConfig(props);
    }

    /** The effective raw value of a property (default applied), or null. */
    public String get(String name) {
        return values.get(name);
    }

    /** The type of a server property (string, int, long, boolean, list), or null when there is no such property. */
    public static String typeOf(String name) {
        ConfigDef.Key k = DEF.keys().get(name);
        return k == null ? null : k.type().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The meaning of a server property, or null when there is no such property. */
    public static String docOf(String name) {
        ConfigDef.Key k = DEF.keys().get(name);
        return k == null ? null : k.doc();
    }

    /** Every server property name, in definition order. */
    public static java.util.Set<String> propertyNames() {
        return DEF.keys().keySet();
    }

    /** Whether the operator set this property (in the file or a flag), rather than leaving its default. */
    public boolean isExplicitlySet(String name) {
        return explicitlySet.contains(name);
    }

    /** Every property's effective raw value (defaults filled in; properties without a value are absent). */
    public Map<String, String> values() {
        return java.util.Collections.unmodifiableMap(values);
    }

    /** Every property with its default and meaning, one per paragraph (for --help and the docs). */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        for (ConfigDef.Key k : DEF.keys().values()) {
            sb.append(k.name()).append(" (").append(k.type().name().toLowerCase());
            sb.append(", default: ").append(k.defaultValue() == null ? "none" : k.defaultValue().isEmpty()
                ? "empty" : k.defaultValue()).append(")\n    ").append(k.doc()).append('\n');
        }
        return sb.toString();
    }

    /** Markdown table of every property, for docs/CONFIGURATION.md. */
    public static String describeMarkdown() {
        StringBuilder sb = new StringBuilder("| property | type | default | meaning |\n|---|---|---|---|\n");
        for (ConfigDef.Key k : DEF.keys().values()) {
            sb.append("| `").append(k.name()).append("` | ").append(k.type().name().toLowerCase()).append(" | ")
                .append(k.defaultValue() == null ? "—" : k.defaultValue().isEmpty() ? "(empty)"
                    : "`" + k.defaultValue() + "`")
                .append(" | ").append(k.doc().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    private static boolean logAppendTime(String type) {
        return switch (type.trim()) {
            case "CreateTime" -> false;
            case "LogAppendTime" -> true;
            default -> throw new ConfigException("log.message.timestamp.type: '" + type
                + "' must be CreateTime or LogAppendTime");
        };
    }
}
