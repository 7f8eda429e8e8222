package io.idemlog.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.Consumer;

/**
 * A real Apache Kafka 4.x cluster of {@code n} nodes (default 3), each a {@link KafkaBroker} in its own JVM that is
 * both broker and KRaft controller: one static {@code controller.quorum.voters} over every node's controller port,
 * one cluster id every node's storage is formatted with, every port from {@link Ports#freePort()} on 127.0.0.1.
 *
 * <p>{@link #start()} launches every node first (a node serves only once a majority of the quorum runs), then waits
 * until each lists itself in Metadata. Defaults for a replicated cluster: {@code default.replication.factor} and the
 * internal topics' replication factor = n, {@code min.insync.replicas} = 2 (for n &ge; 3). {@link #close()} stops
 * every node.
 *
 * <pre>{@code
 * try (KafkaCluster kafka = KafkaCluster.builder(tempDir).start()) {
 *     ... kafka.bootstrap() ...   // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class KafkaCluster implements AutoCloseable {
    private final List<KafkaBroker> nodes;

    private KafkaCluster(List<KafkaBroker> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /** A builder for a cluster whose node {@code i} (1-based) keeps its files under {@code workDir/node<i>}. */
    public static Builder builder(Path workDir) {
        return new Builder(workDir);
    }

    /**
     * Launches every node, then waits until each serves; on a failure stops the nodes already launched.
     *
     * @throws IllegalStateException if a node exits or is not ready within the startup timeout
     */
    public KafkaCluster start() {
        try {
            for (KafkaBroker n : nodes) {
                n.launch();
            }
            for (KafkaBroker n : nodes) {
                n.awaitReady();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        return this;
    }

    /** The nodes, node.id 1 first. */
    public List<KafkaBroker> nodes() {
        return nodes;
    }

    /** Every node's client address, "127.0.0.1:p1,127.0.0.1:p2,...", for bootstrap.servers. */
    public String bootstrap() {
        StringJoiner j = new StringJoiner(",");
        nodes.forEach(n -> j.add(n.bootstrap()));
        return j.toString();
    }

    /** The first node's client address (any node answers Metadata for the whole cluster). */
    public InetSocketAddress address() {
        return nodes.get(0).address();
    }

    /** The OS pids of the node JVMs, in node order. */
    public List<Long> pids() {
        return nodes.stream().map(KafkaBroker::pid).toList();
    }

    /** Stops every node (each SIGTERM, then SIGKILL after its stop timeout); every node is tried. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (KafkaBroker n : nodes) {
            try {
                n.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "KafkaCluster" + nodes;
    }

    /** Configuration of a {@link KafkaCluster}. */
    public static final class Builder {
        private final Path workDir;
        private int size = 3;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private Consumer<KafkaBroker.Builder> each = b -> { };

        private Builder(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
        }

        /** The number of nodes (default 3). */
        public Builder size(int nodes) {
            if (nodes < 1) {
                throw new IllegalArgumentException("nodes " + nodes);
            }
            this.size = nodes;
            return this;
        }

        /** A broker property on every node, over the cluster's defaults. */
        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        /**
         * Anything else on every node's {@link KafkaBroker.Builder} (class path, JVM options, log level, timeouts);
         * the node id, ports, voters and cluster id are the cluster's.
         */
        public Builder eachNode(Consumer<KafkaBroker.Builder> configure) {
            this.each = Objects.requireNonNull(configure, "configure");
            return this;
        }

        /** The cluster, not started. */
        public KafkaCluster build() {
            Set<Integer> taken = new HashSet<>();
            int[] client = new int[size];
            int[] controller = new int[size];
            StringJoiner voters = new StringJoiner(",");
            for (int i = 0; i < size; i++) {
                client[i] = distinctFreePort(taken);
                controller[i] = distinctFreePort(taken);
                voters.add((i + 1) + "@" + Ports.LOOPBACK + ":" + controller[i]);
            }
            String clusterId = KafkaBroker.randomClusterId();
            String rf = String.valueOf(size);
            String minIsr = String.valueOf(Math.min(2, size));
            List<KafkaBroker> nodes = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Path dir = workDir.resolve("node" + (i + 1));
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot create " + dir, e);
                }
                KafkaBroker.Builder b = KafkaBroker.builder(dir)
                    .property("default.replication.factor", rf)
                    .property("min.insync.replicas", minIsr)
                    .property("offsets.topic.replication.factor", rf)
                    .property("transaction.state.log.replication.factor", rf)
                    .property("transaction.state.log.min.isr", minIsr)
                    .property("share.coordinator.state.topic.replication.factor", rf)
                    .property("share.coordinator.state.topic.min.isr", minIsr);
                properties.forEach(b::property);
                each.accept(b);
                nodes.add(b.nodeId(i + 1).port(client[i]).controllerPort(controller[i]).voters(voters.toString())
                    .clusterId(clusterId).build());
            }
            return new KafkaCluster(nodes);
        }

        /** The cluster, started and ready. */
        public KafkaCluster start() {
            return build().start();
        }

        private static int distinctFreePort(Set<Integer> taken) {
            for (int attempt = 0; attempt < 100; attempt++) {
                int p = Ports.freePort();
                if (taken.add(p)) {
                    return p;
                }
            }
            throw new IllegalStateException("no distinct free port in 100 attempts");
        }
    }
}
