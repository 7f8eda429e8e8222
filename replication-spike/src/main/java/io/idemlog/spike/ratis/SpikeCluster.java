package io.idemlog.spike.ratis;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.Ports;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * SPIKE: three {@link SpikeNode} child JVMs on 127.0.0.1, optionally behind a {@link LinkProxy}, and the clients
 * that talk to them. Owned by the driver thread; every process it starts, {@link #close} stops.
 */
final class SpikeCluster implements AutoCloseable {
    static final int NODES = 3;

    private final Path work;
    private final Mode mode;
    private final int partitions;
    private final Map<String, String> ratisProps;
    private final List<String> jvmArgs;
    private final int[] ports = new int[NODES];
    private final int[] raftPorts = new int[NODES];
    private final Process[] processes = new Process[NODES];
    private final List<Long> pids = Collections.synchronizedList(new ArrayList<>(List.of(-1L, -1L, -1L)));
    private final LinkProxy proxy;
    private final List<RaftPeer> peers;
    private final String peerSpec;

    SpikeCluster(Path work, Mode mode, int partitions, Map<String, String> ratisProps, List<String> jvmArgs,
                 boolean withProxy) throws IOException {
        this.work = work;
        this.mode = mode;
        this.partitions = partitions;
        this.ratisProps = ratisProps;
        this.jvmArgs = jvmArgs;
        StringBuilder spec = new StringBuilder();
        for (int i = 0; i < NODES; i++) {
            ports[i] = Ports.freePort();
            raftPorts[i] = withProxy ? Ports.freePort() : ports[i];
            if (i > 0) {
                spec.append(',');
            }
            spec.append(id(i)).append("=127.0.0.1:").append(raftPorts[i]).append("|127.0.0.1:").append(ports[i]);
        }
        this.peerSpec = spec.toString();
        this.peers = SpikeGroups.peers(peerSpec);
        this.proxy = withProxy ? new LinkProxy(raftPorts, ports, pids, this::nodeOfPid) : null;
    }

    static String id(int node) {
        return "n" + (node + 1);
    }

    static int index(RaftPeerId id) {
        return Integer.parseInt(id.toString().substring(1)) - 1;
    }

    Integer nodeOfPid(long pid) {
        for (int i = 0; i < NODES; i++) {
            if (pids.get(i) == pid) {
                return i;
            }
        }
        return null;
    }

    Path nodeDir(int node) {
        return work.resolve(id(node));
    }

    Path logFile(int node) {
        return work.resolve(id(node) + ".log");
    }

    long pid(int node) {
        return pids.get(node);
    }

    LinkProxy proxy() {
        return proxy;
    }

    RaftGroup group(int partition) {
        return SpikeGroups.group(partition, peers);
    }

    void startAll() throws IOException {
        for (int i = 0; i < NODES; i++) {
            start(i);
        }
        for (int i = 0; i < NODES; i++) {
            awaitReady(i, Duration.ofSeconds(120));
        }
    }

    /** Launches node {@code i} (its data dir is kept: a restart recovers it). */
    void start(int i) throws IOException {
        List<String> args = new ArrayList<>(List.of(id(i), Integer.toString(ports[i]), nodeDir(i).toString(),
            mode.name(), Integer.toString(partitions), peerSpec));
        for (Map.Entry<String, String> e : ratisProps.entrySet()) {
            args.add(e.getKey() + "=" + e.getValue());
        }
        List<String> cmd = ChildJvm.javaCommand(jvmArgs, System.getProperty("java.class.path"),
            SpikeNode.class.getName(), args);
        Files.deleteIfExists(logFile(i));
        processes[i] = ChildJvm.launch(cmd, logFile(i), "spike node " + id(i));
        pids.set(i, processes[i].pid());
    }

    void awaitReady(int i, Duration timeout) {
        Await.until(() -> id(i) + " ready (log " + logFile(i) + "):\n" + ChildJvm.tail(logFile(i), 3000), timeout,
            () -> {
                if (!processes[i].isAlive()) {
                    throw new IllegalStateException(id(i) + " exited: " + ChildJvm.tail(logFile(i), 4000));
                }
                return ChildJvm.tail(logFile(i), 1 << 20).contains(SpikeNode.READY);
            });
    }

    boolean alive(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    /** SIGKILL. */
    void kill(int i) {
        ChildJvm.kill(processes[i], Duration.ofSeconds(30));
        pids.set(i, -1L);
    }

    /** SIGSTOP / SIGCONT. */
    void signal(int i, String signal) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(processes[i].pid())).inheritIO().start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + processes[i].pid() + " failed");
        }
    }

    /** A client for one partition's group, with this retry policy (the driver does its own re-sends). */
    RaftClient client(int partition, RaftProperties clientProps, RetryPolicy retry) {
        return RaftClient.newBuilder().setProperties(clientProps).setRaftGroup(group(partition))
            .setRetryPolicy(retry).build();
    }

    /** A stale-read query to one replica of a partition (its local state, no leader round trip). */
    static String query(RaftClient client, int node, String what) throws IOException {
        RaftClientReply reply = client.io().sendStaleRead(Message.valueOf(what), 0, RaftPeerId.valueOf(id(node)));
        if (!reply.isSuccess()) {
            throw new IOException("query " + what + " to " + id(node) + " failed: " + reply.getException());
        }
        return reply.getMessage().getContent().toString(StandardCharsets.UTF_8);
    }

    static byte[] queryBytes(RaftClient client, int node, String what) throws IOException {
        RaftClientReply reply = client.io().sendStaleRead(Message.valueOf(what), 0, RaftPeerId.valueOf(id(node)));
        if (!reply.isSuccess()) {
            throw new IOException("query " + what + " to " + id(node) + " failed: " + reply.getException());
        }
        return reply.getMessage().getContent().toByteArray();
    }

    /** VmRSS of a node from /proc, in KiB (-1 if unknown). */
    long rssKiB(int node) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid(node)), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Total CPU time (user + system) of a node from /proc, in clock ticks (-1 if unknown). */
    long cpuTicks(int node) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid(node)), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < NODES; i++) {
            if (processes[i] != null && processes[i].isAlive()) {
                try {
                    signal(i, "CONT");
                } catch (IOException | InterruptedException e) {
                    // it may be gone already
                }
                ChildJvm.terminate(processes[i], Duration.ofSeconds(20));
            }
        }
        if (proxy != null) {
            proxy.close();
        }
    }
}
