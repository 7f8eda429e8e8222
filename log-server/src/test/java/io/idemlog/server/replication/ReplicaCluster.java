package io.idemlog.server.replication;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.cluster.ClusterConfig;
import io.idemlog.server.cluster.MetadataQuorum;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.PartitionRole;
import org.agrona.concurrent.SystemEpochClock;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three in-process nodes on free 127.0.0.1 ports, each a MetadataQuorum (the node's one Raft server) with this
 * node's PartitionGroups on it, each with its own storage. Stopping a node closes its Raft server and groups.
 */
final class ReplicaCluster implements AutoCloseable {
    static final long TIMEOUT_MS = 60_000;

    final Path dir;
    final ClusterConfig[] configs = new ClusterConfig[3];
    final MetadataQuorum[] quorums = new MetadataQuorum[3];
    final PartitionGroups[] groups = new PartitionGroups[3];
    long snapshotEveryEntries = 1_000_000;
    LogConfig logConfig = LogConfig.defaults();
    long tickIntervalMs = 0;
    /** Whether a stopping server takes a snapshot (Ratis's default); false: a stop leaves what a crash leaves. */
    boolean snapshotOnStop = true;
    /** Raft log entries kept below a snapshot (-1: the server's setting, MetadataQuorum.properties). */
    long purgePreservation = -1;

    ReplicaCluster(Path dir) throws IOException {
        this.dir = dir;
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(port);
        }
        for (int i = 0; i < 3; i++) {
            configs[i] = ClusterConfig.parse(i + 1, true, voters.toString(), null, null, 300,
                dir.resolve("node" + (i + 1)));
        }
    }

    /** A node's own storage settings (null: {@link #logConfig}), as a server's log.* properties would differ. */
    final LogConfig[] nodeLogConfigs = new LogConfig[3];
    /** The topic settings every node's leader proposes (null: each node's own storage settings). */
    volatile java.util.function.Function<PartitionDescriptor, LogConfig> topicConfigs;
    /** The version (metadata index) every node reports for {@link #topicConfigs}. */
    volatile long metadataIndex = -1L;

    void startAll() throws IOException {
        for (int i = 0; i < 3; i++) {
            start(i);
        }
    }

    void start(int i) throws IOException {
        RaftProperties p = MetadataQuorum.properties(configs[i], snapshotEveryEntries);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8KB"));
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf("4KB"));
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, snapshotOnStop);
        if (purgePreservation >= 0) {
            RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, purgePreservation);
        }
        PartitionGroups g = new PartitionGroups(configs[i], nodeLogConfigs[i] != null ? nodeLogConfigs[i] : logConfig,
            new SystemEpochClock(), tickIntervalMs);
        if (topicConfigs != null) {
            g.setTopicConfigs(topicConfigs);
            g.setMetadataIndex(() -> metadataIndex);
        }
        MetadataQuorum q;
        try {
            q = MetadataQuorum.start(configs[i], p, g.registry());
        } catch (IOException | RuntimeException e) {
            g.close();
            throw e;
        }
        g.attach(q.server());
        groups[i] = g;
        quorums[i] = q;
    }

    void stop(int i) throws IOException {
        MetadataQuorum q = quorums[i];
        PartitionGroups g = groups[i];
        quorums[i] = null;
        groups[i] = null;
        try {
            if (q != null) {
                q.close();
            }
        } finally {
            if (g != null) {
                g.close();
            }
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (int i = 0; i < 3; i++) {
            try {
                stop(i);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + TIMEOUT_MS + " ms waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a poll interval, not a synchronisation
        }
    }

    /** The node whose replica of the partition is a READY leader (waits for one). */
    int leader(String topic, int index) {
        int[] found = {-1};
        await(() -> {
            for (int i = 0; i < 3; i++) {
                Partition p = groups[i] == null ? null : groups[i].partition(topic, index);
                if (p != null && p.role() == PartitionRole.LEADER) {
                    found[0] = i;
                    return true;
                }
            }
            return false;
        }, "a ready leader of " + topic + "-" + index);
        return found[0];
    }

    /** Waits until every running node's replica has applied up to {@code logEnd} and reads it durably. */
    void awaitApplied(String topic, int index, long logEnd) {
        await(() -> {
            for (int i = 0; i < 3; i++) {
                if (groups[i] == null) {
                    continue;
                }
                Partition p = groups[i].partition(topic, index);
                if (p == null || p.logEndOffset() < logEnd || p.highWatermark() < logEnd) {
                    return false;
                }
            }
            return true;
        }, "every replica of " + topic + "-" + index + " at offset " + logEnd);
    }

    /** The SHA-256 of the partition's segment bytes on node {@code i}, in offset order (the files concatenated). */
    String digest(int i, String topic, int index) throws Exception {
        ReplicatedPartition p = (ReplicatedPartition) groups[i].partition(topic, index);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long end = p.logEndOffset();
        md.update(p.stateMachine().log().segmentBytes());
        return end + ":" + HexFormat.of().formatHex(md.digest());
    }

    /** Appends {@code batch} through {@code p} (a replicated partition) and waits for the outcome. */
    static io.idemlog.server.log.AppendResult append(Partition p, byte[] batch) throws Exception {
        return ((ReplicatedPartition) p).appendAsync(ByteBuffer.wrap(batch), 0, batch.length)
            .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** An idempotent batch of {@code count} records, values naming (tag, i). */
    static byte[] batch(long producerId, short epoch, int sequence, int count, String tag) {
        ByteBuffer buf = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + count * 96 + 64);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < count; i++) {
            byte[] value = (tag + "-" + i).getBytes(StandardCharsets.UTF_8);
            if (!builder.tryAppend(1_700_000_000_000L + i, null, value, null)) {
                throw new IllegalStateException("batch buffer too small");
            }
        }
        int size = builder.close();
        if (producerId >= 0) {
            new RecordBatch(buf, 0).stampProducerState(producerId, epoch, sequence);
        }
        return Arrays.copyOf(buf.array(), size);
    }

    List<Integer> running() {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (quorums[i] != null) {
                r.add(i);
            }
        }
        return r;
    }

    /** {@code base} with one record component replaced (LogConfig has no builder outside its package). */
    static LogConfig with(LogConfig base, String component, Object value) throws Exception {
        java.lang.reflect.RecordComponent[] cs = LogConfig.class.getRecordComponents();
        Object[] args = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) {
            types[i] = cs[i].getType();
            args[i] = cs[i].getName().equals(component) ? value : cs[i].getAccessor().invoke(base);
        }
        return LogConfig.class.getDeclaredConstructor(types).newInstance(args);
    }
}
