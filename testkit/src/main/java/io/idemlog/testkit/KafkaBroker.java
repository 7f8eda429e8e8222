package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real Apache Kafka 4.x broker in its own JVM: KRaft, one node that is both broker and controller, listening on
 * 127.0.0.1 only, for side-by-side runs and to prove the testkit against the reference implementation.
 *
 * <p>{@link #start()} writes {@code server.properties} and a logback configuration into the work directory, formats
 * the storage with {@code kafka.tools.StorageTool} (first start only), runs {@code kafka.Kafka}, and returns once the
 * broker answers ApiVersions and lists itself in Metadata. Its log (through slf4j and logback, the binding this
 * project uses) goes to {@code broker.log} in the work directory.
 *
 * <p>The jars come from Maven Central ({@code org.apache.kafka:kafka_2.13}); the class path defaults to this JVM's,
 * so a module that uses the launcher adds that artifact (test scope is enough) and logback-classic.
 *
 * <p>Topics: {@code auto.create.topics.enable=true} with {@code num.partitions} from the builder, and
 * {@link #createTopic} asks for a topic through Metadata until every partition has a leader; every topic of one
 * broker therefore has the same number of partitions.
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.builder(tempDir).numPartitions(4).start()) {
 *     kafka.createTopic("events");
 *     ... kafka.bootstrap() ...
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class KafkaBroker implements AutoCloseable {
    /** The broker's main class. */
    public static final String KAFKA_MAIN = "kafka.Kafka";
    /** The tool that formats a KRaft log directory. */
    public static final String STORAGE_TOOL = "kafka.tools.StorageTool";
    private static final long PROBE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Path workDir;
    private final int nodeId;
    private final String voters;
    private final String clusterId;
    private final int port;
    private final int controllerPort;
    private final int numPartitions;
    private final String classpath;
    private final Map<String, String> properties;
    private final List<String> jvmArgs;
    private final String logLevel;
    private final Duration startupTimeout;
    private final Duration stopTimeout;
    private final Path logFile;
    private Process process;
    private boolean formatted;
    private int starts;

    private KafkaBroker(Builder b) {
        this.workDir = b.workDir.toAbsolutePath();
        this.port = b.port == 0 ? Ports.freePort() : b.port;
        int controller = b.controllerPort == 0 ? Ports.freePort() : b.controllerPort;
        while (controller == port) {
            controller = Ports.freePort();
        }
        this.controllerPort = controller;
        this.nodeId = b.nodeId;
        this.voters = b.voters == null ? nodeId + "@" + Ports.LOOPBACK + ":" + controllerPort : b.voters;
        this.clusterId = b.clusterId == null ? randomClusterId() : b.clusterId;
        this.numPartitions = b.numPartitions;
        this.classpath = b.classpath;
        this.properties = new LinkedHashMap<>(b.properties);
        this.jvmArgs = List.copyOf(b.jvmArgs);
        this.logLevel = b.logLevel;
        this.startupTimeout = b.startupTimeout;
        this.stopTimeout = b.stopTimeout;
        this.logFile = workDir.resolve("broker.log");
    }

    /** A builder for a broker that keeps its configuration, data and log under {@code workDir}. */
    public static Builder builder(Path workDir) {
        return new Builder(workDir);
    }

    /**
     * Formats the storage on the first start, starts the broker and waits until it serves clients.
     *
     * @throws IllegalStateException if it is already running, exits, or is not ready within the startup timeout
     *                               (the message carries the end of its log)
     */
    public KafkaBroker start() {
        launch();
        awaitReady();
        return this;
    }

    /**
     * Formats the storage on the first start and starts the broker JVM, without waiting: a {@link KafkaCluster}
     * launches every node first (a node serves only once a majority of the controller quorum runs), then
     * {@link #awaitReady()} on each.
     */
    void launch() {
        if (isAlive()) {
            throw new IllegalStateException("already running: " + this);
        }
        Path config = workDir.resolve("server.properties");
        Path logback = workDir.resolve("logback-broker.xml");
        if (!formatted) {
            ChildJvm.write(config, serverProperties());
            ChildJvm.write(logback, LOGBACK_XML);
            format(config, logback);
            formatted = true;
        }
        starts++;
        List<String> jvm = new ArrayList<>(jvmArgs);
        jvm.add("-Dlogback.configurationFile=" + logback);
        jvm.add("-Dkafka.testkit.log.level=" + logLevel);
        try {
            process = ChildJvm.launch(ChildJvm.javaCommand(jvm, classpath, KAFKA_MAIN, List.of(config.toString())),
                logFile, "Kafka broker #" + starts + " on port " + port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + KAFKA_MAIN, e);
        }
    }

    /**
     * Waits until the launched broker answers ApiVersions and lists itself in Metadata; kills it if not within the
     * startup timeout.
     */
    void awaitReady() {
        try {
            ChildJvm.awaitKafkaProtocol(process, address(), startupTimeout, logFile, "Kafka broker");
            awaitRegistered();
        } catch (RuntimeException e) {
            ChildJvm.kill(process, stopTimeout);
            throw e;
        }
    }

    private void format(Path config, Path logback) {
        List<String> jvm = List.of("-Xmx256m", "-Dlogback.configurationFile=" + logback,
            "-Dkafka.testkit.log.level=WARN");
        // --ignore-formatted: a work directory reused from an earlier broker keeps its data and cluster id
        List<String> args = List.of("format", "-t", clusterId, "-c", config.toString(),
            "--ignore-formatted");
        try {
            Process tool = ChildJvm.launch(ChildJvm.javaCommand(jvm, classpath, STORAGE_TOOL, args), logFile,
                "Kafka StorageTool format");
            if (!tool.waitFor(startupTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                ChildJvm.kill(tool, stopTimeout);
                throw new IllegalStateException("StorageTool format did not finish within " + startupTimeout);
            }
            if (tool.exitValue() != 0) {
                throw new IllegalStateException("StorageTool format exited with " + tool.exitValue() + "; end of "
                    + logFile + ":\n" + ChildJvm.tail(logFile, 4000));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + STORAGE_TOOL, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting", e);
        }
    }

    /** Waits until the broker lists itself in a Metadata response: it is then unfenced and serves requests. */
    private void awaitRegistered() {
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        Exception last = null;
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                break;
            }
            try {
                MetadataResponse metadata = metadata(List.of(), false);
                if (metadata.findBroker(nodeId) != null) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                last = e;
            }
            LockSupport.parkNanos(PROBE_PAUSE_NANOS);
        }
        throw new IllegalStateException("Kafka broker did not register within " + startupTimeout.toMillis()
            + " ms (last error: " + last + "); end of " + logFile + ":\n" + ChildJvm.tail(logFile, 4000));
    }

    /**
     * Creates {@code topic} (with the broker's {@code num.partitions}) by asking for it in a Metadata request that
     * allows auto-creation, and waits until every partition has a leader that answers ListOffsets (Metadata can
     * name a leader a moment before it serves the partition).
     *
     * @return the number of partitions
     */
    public int createTopic(String topic) {
        int partitions = awaitLeaders(topic);
        try (LogReader reader = new LogReader(address(), startupTimeout)) {
            for (int p = 0; p < partitions; p++) {
                reader.offsets(topic, p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("topic " + topic + " not served", e);
        }
        return partitions;
    }

    private int awaitLeaders(String topic) {
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        String state = "no answer";
        while (System.nanoTime() - deadline < 0) {
            try {
                MetadataResponse.Topic t = metadata(List.of(topic), true).findTopic(topic);
                if (t != null && t.errorCode == ErrorCode.NONE.code && !t.partitions.isEmpty()
                    && t.partitions.stream().allMatch(p -> p.errorCode == 0 && p.leaderId >= 0)) {
                    return t.partitions.size();
                }
                state = t == null ? "topic missing" : "error " + ErrorCode.forCode(t.errorCode) + ", "
                    + t.partitions.size() + " partitions";
            } catch (IOException e) {
                state = e.toString();
            }
            LockSupport.parkNanos(PROBE_PAUSE_NANOS);
        }
        throw new IllegalStateException("topic " + topic + " not ready within " + startupTimeout.toMillis()
            + " ms: " + state);
    }

    private MetadataResponse metadata(List<String> topics, boolean autoCreate) throws IOException {
        try (WireConnection c = WireConnection.connect(address(), Duration.ofSeconds(10))) {
            MetadataRequest request = new MetadataRequest();
            request.topics = topics;
            request.allowAutoTopicCreation = autoCreate;
            short version = c.version(ApiKey.METADATA, ApiKey.METADATA.maxVersion);
            return c.request(ApiKey.METADATA, version, request, MetadataResponse::read);
        }
    }

    /** SIGKILL; waits for the exit. Kafka acknowledges acks=all without fsync, so a kill may lose acked data. */
    public void kill() {
        if (process != null && process.isAlive()) {
            ChildJvm.kill(process, stopTimeout);
        }
    }

    /**
     * SIGTERM (controlled shutdown), then SIGKILL if it has not exited within the stop timeout.
     *
     * @return true if it exited on SIGTERM (or was not running)
     */
    public boolean stop() {
        if (process != null && process.isAlive()) {
            return ChildJvm.terminate(process, stopTimeout);
        }
        return true;
    }

    /** {@link #stop()} if running, then {@link #start()} with the same ports and data. */
    public KafkaBroker restart() {
        stop();
        return start();
    }

    /** The OS pid of the running broker JVM. */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("not started: " + this);
        }
        return process.pid();
    }

    /** Its {@code node.id} (1 unless a {@link KafkaCluster} numbers its nodes). */
    public int nodeId() {
        return nodeId;
    }

    /** Whether the broker process is running. */
    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The client (PLAINTEXT) port. */
    public int port() {
        return port;
    }

    /** The KRaft controller port (not for clients). */
    public int controllerPort() {
        return controllerPort;
    }

    /** 127.0.0.1:{@link #port()}. */
    public InetSocketAddress address() {
        return Ports.loopback(port);
    }

    /** "127.0.0.1:port", for a client's bootstrap.servers. */
    public String bootstrap() {
        return Ports.LOOPBACK + ":" + port;
    }

    /** Partitions of every topic it creates. */
    public int numPartitions() {
        return numPartitions;
    }

    /** The broker's log (and the format tool's), appended across restarts. */
    public Path logFile() {
        return logFile;
    }

    /** The last {@code maxBytes} of its log. */
    public String logTail(int maxBytes) {
        return ChildJvm.tail(logFile, maxBytes);
    }

    /** Stops the broker (SIGTERM, then SIGKILL after the stop timeout). */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "KafkaBroker(" + bootstrap() + ", controller " + controllerPort + ", " + workDir + ", "
            + (isAlive() ? "pid " + process.pid() : "not running") + ")";
    }

    private String serverProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + port + ",CONTROLLER://" + Ports.LOOPBACK + ":"
            + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + port);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", workDir.resolve("data").toString());
        p.put("num.partitions", String.valueOf(numPartitions));
        p.put("auto.create.topics.enable", "true");
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.putAll(properties);
        StringBuilder sb = new StringBuilder("# written by io.idemlog.testkit.KafkaBroker\n");
        p.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return sb.toString();
    }

    /** A KRaft cluster id: 16 random bytes, base64url without padding, as Kafka's Uuid prints them. */
    static String randomClusterId() {
        SecureRandom random = new SecureRandom();
        byte[] bytes = new byte[16];
        String id;
        do {
            random.nextBytes(bytes);
            id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        } while (id.startsWith("-")); // Kafka never issues those: they read as command-line options
        return id;
    }

    /** Everything to stdout (which goes to broker.log); level from a system property so the tools can be quiet. */
    private static final String LOGBACK_XML = """
        <configuration>
          <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>[%d{HH:mm:ss.SSS}] %-5level %msg [%logger{40}]%n</pattern></encoder>
          </appender>
          <root level="${kafka.testkit.log.level:-INFO}">
            <appender-ref ref="STDOUT"/>
          </root>
        </configuration>
        """;

    /** Configuration of a {@link KafkaBroker}. */
    public static final class Builder {
        private final Path workDir;
        private int nodeId = 1;
        private String voters;
        private String clusterId;
        private int port;
        private int controllerPort;
        private int numPartitions = 1;
        private String classpath = System.getProperty("java.class.path");
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>(List.of("-Xms256m", "-Xmx512m", "-XX:+UseG1GC"));
        private String logLevel = "INFO";
        private Duration startupTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(30);

        private Builder(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
        }

        /** The client port; 0 (default) picks a free one, kept across restarts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The node.id (default 1). */
        public Builder nodeId(int id) {
            if (id < 0) {
                throw new IllegalArgumentException("node.id " + id);
            }
            this.nodeId = id;
            return this;
        }

        /**
         * {@code controller.quorum.voters} ({@code id@127.0.0.1:port,...}, every node's controller port); default
         * this node alone. Needs {@link #controllerPort(int)} set to this node's entry.
         */
        public Builder voters(String voters) {
            this.voters = Objects.requireNonNull(voters, "voters");
            return this;
        }

        /** The cluster id the storage is formatted with (the same on every node of a cluster); default random. */
        public Builder clusterId(String id) {
            this.clusterId = Objects.requireNonNull(id, "id");
            return this;
        }

        /** The controller port; 0 (default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** Partitions of every topic created (default 1). */
        public Builder numPartitions(int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions " + partitions);
            }
            this.numPartitions = partitions;
            return this;
        }

        /** The class path of the broker JVM; defaults to this JVM's {@code java.class.path}. */
        public Builder classpath(String classpath) {
            this.classpath = Objects.requireNonNull(classpath, "classpath");
            return this;
        }

        /** Any broker property, written to server.properties after (and over) the defaults. */
        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        /** Replaces the JVM options (default {@code -Xms256m -Xmx512m -XX:+UseG1GC}). */
        public Builder jvmArgs(String... args) {
            jvmArgs.clear();
            jvmArgs.addAll(List.of(args));
            return this;
        }

        /** Root log level of the broker (default INFO). */
        public Builder logLevel(String level) {
            this.logLevel = Objects.requireNonNull(level, "level");
            return this;
        }

        /** Bound on formatting, starting and topic creation (default 60 s). */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        /** How long {@link KafkaBroker#stop()} waits after SIGTERM before SIGKILL (default 30 s). */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /** The launcher, not started. */
        public KafkaBroker build() {
            try {
                Files.createDirectories(workDir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + workDir, e);
            }
            return new KafkaBroker(this);
        }

        /** The launcher, started and ready. */
        public KafkaBroker start() {
            return build().start();
        }
    }
}
