package io.idemlog.bench.e2e;

import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A server under test, in its own JVM(s): an idemlog server or an Apache Kafka broker, or a 3-node cluster of either
 * ({@link #idemlogCluster}, {@link #kafkaCluster}), with its topics created.
 */
abstract class Target implements AutoCloseable {
    /** "idemlog" or "kafka". */
    abstract String name();

    abstract String bootstrap();

    abstract InetSocketAddress address();

    /** OS pids of the server JVMs (one, or one per node of a cluster), for their CPU time and fsyncs. */
    abstract List<Long> pids();

    /** One line: what runs, how configured. */
    abstract String describe();

    @Override
    public abstract void close();

    /** CPU seconds the server process(es) have used so far: the sum over {@link #pids()}. */
    double cpuSeconds() {
        double sum = 0;
        for (long pid : pids()) {
            sum += Proc.cpuSeconds(pid);
        }
        return sum;
    }

    /** The sum over its partitions of the topic's high watermark (its end, for a topic never truncated). */
    long logEnd(String topic) {
        try (LogReader reader = new LogReader(address(), Duration.ofSeconds(30))) {
            int partitions = reader.partitionCount(topic);
            long sum = 0;
            for (int p = 0; p < partitions; p++) {
                sum += reader.offsets(topic, p).latest();
            }
            return sum;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the offsets of " + topic + " from " + name(), e);
        }
    }

    /** An idemlog server with every topic created at start ({@code create.topics}). */
    static Target idemlog(Path dir, Map<String, Integer> topics, List<String> jvmArgs) {
        return idemlog(dir, topics, jvmArgs, Map.of());
    }

    /** As above, with server properties ({@code --idemlog-props name=value,...}) on top of the defaults. */
    static Target idemlog(Path dir, Map<String, Integer> topics, List<String> jvmArgs, Map<String, String> props) {
        return idemlog(dir, topics, jvmArgs, props, null);
    }

    /** As above, the server JVM run from {@code classpath} (another build's server jar) when not null. */
    static Target idemlog(Path dir, Map<String, Integer> topics, List<String> jvmArgs, Map<String, String> props,
                          String classpath) {
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        StringJoiner create = new StringJoiner(",");
        topics.forEach((t, p) -> create.add(t + ":" + p));
        ServerProcess.Builder b = ServerProcess.builder(dir.resolve("idemlog-data"))
            .logFile(dir.resolve("idemlog-server.log"))
            .jvmArgs(jvmArgs.toArray(String[]::new))
            .override("auto.create.topics.enable", "false")
            // 2 cores shared with other builds (load 80-100): a start can take longer than the default 30 s
            .startupTimeout(java.time.Duration.ofSeconds(120));
        props.forEach(b::override);
        if (classpath != null) {
            b.classpath(classpath);
        }
        if (!topics.isEmpty()) {
            b.override("create.topics", create.toString());
        }
        ServerProcess server = b.start();
        return new IdemlogTarget(server, jvmArgs);
    }

    /**
     * A Kafka 4.x broker (KRaft, one node) with every topic created through the Admin API; from {@code classpath}
     * (another Kafka version's jars, see {@code --kafka-classpath}) or, when null, from this JVM's (kafka4.version).
     */
    static Target kafka(Path dir, Map<String, Integer> topics, List<String> jvmArgs, String classpath) {
        KafkaBroker.Builder builder = KafkaBroker.builder(dir.resolve("kafka"));
        if (classpath != null) {
            builder.classpath(classpath);
        }
        KafkaBroker broker = builder
            .jvmArgs(jvmArgs.toArray(String[]::new))
            .logLevel("WARN")
            .property("auto.create.topics.enable", "false")
            .start();
        try {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
            try (Admin admin = Admin.create(p)) {
                List<NewTopic> news = new ArrayList<>();
                topics.forEach((t, n) -> news.add(new NewTopic(t, n, (short) 1)));
                admin.createTopics(news).all().get(60, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            broker.close();
            throw new IllegalStateException("cannot create topics on Kafka: " + e, e);
        } catch (InterruptedException e) {
            broker.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return new KafkaTarget(broker, jvmArgs, classpath == null
            ? org.apache.kafka.common.utils.AppInfoParser.getVersion() : versionOf(classpath));
    }

    /** Nodes of the cluster targets. */
    static final int CLUSTER_NODES = 3;

    /**
     * A 3-node idemlog cluster (docs/OPERATIONS.md "A 3-node cluster"): three server JVMs, each a broker and a voter
     * of the metadata group, {@code default.replication.factor=3}, {@code min.insync.replicas=2}, otherwise the
     * server's defaults and {@code props}; every topic created through the Admin API with RF=3 and every partition
     * led before this returns.
     */
    static Target idemlogCluster(Path dir, Map<String, Integer> topics, List<String> jvmArgs,
                                 Map<String, String> props) {
        StringJoiner voters = new StringJoiner(",");
        for (int i = 0; i < CLUSTER_NODES; i++) {
            voters.add((i + 1) + "@" + io.idemlog.testkit.Ports.LOOPBACK + ":" + io.idemlog.testkit.Ports.freePort());
        }
        List<ServerProcess> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < CLUSTER_NODES; i++) {
                Path node = dir.resolve("idemlog-node" + (i + 1));
                java.nio.file.Files.createDirectories(node);
                ServerProcess.Builder b = ServerProcess.builder(node.resolve("data"))
                    .logFile(node.resolve("server.log"))
                    .jvmArgs(jvmArgs.toArray(String[]::new))
                    .override("node.id", Integer.toString(i + 1))
                    .override("controller.quorum.voters", voters.toString())
                    .override("default.replication.factor", Integer.toString(CLUSTER_NODES))
                    .override("min.insync.replicas", "2")
                    .override("auto.create.topics.enable", "false")
                    .startupTimeout(Duration.ofSeconds(180)); // three JVMs starting on a loaded 2-core machine
                props.forEach(b::override);
                nodes.add(b.start());
            }
            StringJoiner bootstrap = new StringJoiner(",");
            nodes.forEach(n -> bootstrap.add(n.bootstrap()));
            createTopics(bootstrap.toString(), topics, CLUSTER_NODES, CLUSTER_NODES);
            IdemlogClusterTarget t = new IdemlogClusterTarget(nodes, bootstrap.toString(), jvmArgs, props);
            awaitServed(t, topics);
            return t;
        } catch (IOException e) {
            nodes.forEach(ServerProcess::close);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            nodes.forEach(ServerProcess::close);
            throw e;
        }
    }

    /**
     * A 3-broker Apache Kafka cluster (testkit {@link io.idemlog.testkit.KafkaCluster}: KRaft, each node broker and
     * controller, {@code min.insync.replicas=2}, otherwise Kafka's defaults: no fsync on acks), every topic created
     * with RF=3 and every partition served before this returns.
     */
    static Target kafkaCluster(Path dir, Map<String, Integer> topics, List<String> jvmArgs, String classpath) {
        io.idemlog.testkit.KafkaCluster cluster = io.idemlog.testkit.KafkaCluster.builder(dir.resolve("kafka-cluster"))
            .size(CLUSTER_NODES)
            .property("auto.create.topics.enable", "false")
            .eachNode(b -> {
                if (classpath != null) {
                    b.classpath(classpath);
                }
                b.jvmArgs(jvmArgs.toArray(String[]::new)).logLevel("WARN").startupTimeout(Duration.ofSeconds(180));
            })
            .start();
        try {
            createTopics(cluster.bootstrap(), topics, CLUSTER_NODES, CLUSTER_NODES);
            KafkaClusterTarget t = new KafkaClusterTarget(cluster, jvmArgs, classpath == null
                ? org.apache.kafka.common.utils.AppInfoParser.getVersion() : versionOf(classpath));
            awaitServed(t, topics);
            return t;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Creates the topics through the Admin API once {@code brokers} brokers are registered (a cluster's nodes
     * register a moment after they answer ApiVersions).
     */
    static void createTopics(String bootstrap, Map<String, Integer> topics, int brokers, int replicationFactor) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            int seen = 0;
            while ((seen = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size()) < brokers) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException(seen + " of " + brokers + " brokers registered after 180 s ("
                        + bootstrap + ")");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // poll
            }
            List<NewTopic> news = new ArrayList<>();
            topics.forEach((t, n) -> news.add(new NewTopic(t, n, (short) replicationFactor)));
            // Again while the node that handles it answers INVALID_REPLICATION_FACTOR: the node that answered
            // DescribeCluster with every broker may have applied the last registration before this one has (a
            // fresh-clone .ci/run failed so: "only 2 broker(s) are registered"); the testkit's ClusterHarness does
            // the same. An earlier attempt that created them after all answers TOPIC_ALREADY_EXISTS.
            while (true) {
                try {
                    admin.createTopics(news).all().get(120, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                        break;
                    }
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException)
                        || System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // poll
                }
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create topics on " + bootstrap + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Waits (LogReader's bounded retries) until every partition of every topic has a leader that answers. */
    static void awaitServed(Target t, Map<String, Integer> topics) {
        try (LogReader reader = new LogReader(t.address(), Duration.ofSeconds(120))) {
            for (Map.Entry<String, Integer> e : topics.entrySet()) {
                for (int p = 0; p < e.getValue(); p++) {
                    reader.offsets(e.getKey(), p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("topics not served by " + t.name() + ": " + e, e);
        }
    }

    /** The 3-node idemlog cluster. */
    static final class IdemlogClusterTarget extends Target {
        private final List<ServerProcess> nodes;
        private final String bootstrap;
        private final List<String> jvmArgs;
        private final Map<String, String> props;

        IdemlogClusterTarget(List<ServerProcess> nodes, String bootstrap, List<String> jvmArgs,
                             Map<String, String> props) {
            this.nodes = List.copyOf(nodes);
            this.bootstrap = bootstrap;
            this.jvmArgs = jvmArgs;
            this.props = props;
        }

        @Override
        String name() {
            return "idemlog";
        }

        @Override
        String bootstrap() {
            return bootstrap;
        }

        @Override
        InetSocketAddress address() {
            return nodes.get(0).address();
        }

        @Override
        List<Long> pids() {
            return nodes.stream().map(ServerProcess::pid).toList();
        }

        @Override
        String describe() {
            return "idemlog 3-node cluster (io.idemlog.server.Main x3, pids " + pids() + ", " + String.join(" ", jvmArgs)
                + ") on " + bootstrap + ", default.replication.factor=3 min.insync.replicas=2"
                + (props.isEmpty() ? "" : " " + props) + ", topics RF=3; acks=all answered once a majority of the "
                + "partition's Raft group has it in its fsync'd log";
        }

        @Override
        public void close() {
            RuntimeException first = null;
            for (ServerProcess n : nodes) {
                try {
                    n.close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /** The 3-broker Apache Kafka cluster. */
    static final class KafkaClusterTarget extends Target {
        private final io.idemlog.testkit.KafkaCluster cluster;
        private final List<String> jvmArgs;
        private final String version;

        KafkaClusterTarget(io.idemlog.testkit.KafkaCluster cluster, List<String> jvmArgs, String version) {
            this.cluster = cluster;
            this.jvmArgs = jvmArgs;
            this.version = version;
        }

        @Override
        String name() {
            return "kafka";
        }

        @Override
        String bootstrap() {
            return cluster.bootstrap();
        }

        @Override
        InetSocketAddress address() {
            return cluster.address();
        }

        @Override
        List<Long> pids() {
            return cluster.pids();
        }

        @Override
        String describe() {
            return "Apache Kafka " + version + " 3-broker cluster (KRaft, each node broker+controller, pids " + pids()
                + ", " + String.join(" ", jvmArgs) + ") on " + cluster.bootstrap() + ", min.insync.replicas=2, "
                + "topics RF=3, num.network.threads=2 num.io.threads=4 (testkit KafkaBroker defaults), no fsync on "
                + "acks (Kafka's default flush policy)";
        }

        @Override
        public void close() {
            cluster.close();
        }
    }

    /** The version in the name of the class path's kafka_2.13 jar (kafka_2.13-4.4.0.jar), or "unknown". */
    static String versionOf(String classpath) {
        for (String entry : classpath.split(java.io.File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("kafka_2.13-") && name.endsWith(".jar")) {
                return name.substring("kafka_2.13-".length(), name.length() - ".jar".length());
            }
        }
        return "unknown";
    }

    /** The idemlog server. */
    static final class IdemlogTarget extends Target {
        final ServerProcess server;
        private final List<String> jvmArgs;

        IdemlogTarget(ServerProcess server, List<String> jvmArgs) {
            this.server = server;
            this.jvmArgs = jvmArgs;
        }

        @Override
        String name() {
            return "idemlog";
        }

        @Override
        String bootstrap() {
            return server.bootstrap();
        }

        @Override
        InetSocketAddress address() {
            return server.address();
        }

        @Override
        List<Long> pids() {
            return List.of(server.pid());
        }

        @Override
        String describe() {
            return "idemlog server (io.idemlog.server.Main, pid " + server.pid() + ", " + String.join(" ", jvmArgs)
                + ") on " + server.bootstrap() + ", data " + server.dataDir()
                + "; acks=all answered after fsync (group commit)";
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** The Apache Kafka broker. */
    static final class KafkaTarget extends Target {
        private final KafkaBroker broker;
        private final List<String> jvmArgs;
        private final String version;

        KafkaTarget(KafkaBroker broker, List<String> jvmArgs, String version) {
            this.broker = broker;
            this.jvmArgs = jvmArgs;
            this.version = version;
        }

        @Override
        String name() {
            return "kafka";
        }

        @Override
        String bootstrap() {
            return broker.bootstrap();
        }

        @Override
        InetSocketAddress address() {
            return broker.address();
        }

        @Override
        List<Long> pids() {
            return List.of(broker.pid());
        }

        @Override
        String describe() {
            return "Apache Kafka " + version + " broker (KRaft, broker+controller, pid " + broker.pid() + ", " + String.join(" ", jvmArgs) + ") on "
                + broker.bootstrap() + ", num.network.threads=2 num.io.threads=4 (testkit KafkaBroker defaults), "
                + "no fsync on acks (Kafka's default flush policy)";
        }

        @Override
        public void close() {
            broker.close();
        }
    }
}
