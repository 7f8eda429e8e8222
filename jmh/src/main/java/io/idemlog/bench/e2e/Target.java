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

/** A server under test, in its own JVM: an idemlog server or an Apache Kafka broker, with its topics created. */
abstract class Target implements AutoCloseable {
    /** "idemlog" or "kafka". */
    abstract String name();

    abstract String bootstrap();

    abstract InetSocketAddress address();

    /** OS pid of the server JVM, for its CPU time. */
    abstract long pid();

    /** One line: what runs, how configured. */
    abstract String describe();

    @Override
    public abstract void close();

    /** CPU seconds the server process has used so far. */
    double cpuSeconds() {
        return Proc.cpuSeconds(pid());
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
        long pid() {
            return server.pid();
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
        private long pid = -1;

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
        long pid() {
            if (pid < 0) {
                pid = findPid();
            }
            return pid;
        }

        private long findPid() {
            // KafkaBroker does not expose its pid: find our child JVM that runs kafka.Kafka on its work folder
            String config = broker.logFile().resolveSibling("server.properties").toString();
            return ProcessHandle.current().children()
                .filter(h -> {
                    List<String> args = Proc.commandLine(h.pid());
                    return args.contains(KafkaBroker.KAFKA_MAIN) && args.contains(config);
                })
                .findFirst().orElseThrow(() -> new IllegalStateException("cannot find the Kafka broker's pid"))
                .pid();
        }

        @Override
        String describe() {
            return "Apache Kafka " + version + " broker (KRaft, broker+controller, pid " + pid() + ", " + String.join(" ", jvmArgs) + ") on "
                + broker.bootstrap() + ", num.network.threads=2 num.io.threads=4 (testkit KafkaBroker defaults), "
                + "no fsync on acks (Kafka's default flush policy)";
        }

        @Override
        public void close() {
            broker.close();
        }
    }
}
