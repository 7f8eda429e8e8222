package io.idemlog.spike.ratis;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.ChildJvm;
import org.HdrHistogram.Histogram;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * SPIKE driver: {@code SpikeBench <command> [--option=value ...] [raft.key=value ...]}. Commands:
 * <ul>
 * <li>{@code throughput}: one run (--mode, --partitions, --batch-bytes, --window, --seconds, --warmup);</li>
 * <li>{@code matrix}: alternating rounds over --modes x --partitions-list x --batch-list (--rounds);</li>
 * <li>{@code failover}: --kills leader SIGKILLs (or --signal=STOP with --stop-ms), restarts, verification;</li>
 * <li>{@code partition}: the leader cut off by the link proxy (--rounds, --hold-ms), heal, verification;</li>
 * <li>{@code snapshot}: a follower falls behind a purged log (--lag=restart|new), install time and bytes;</li>
 * <li>{@code resources}: threads and memory per node for --partitions-list, with the given Ratis settings.</li>
 * </ul>
 * Every run prints {@code RESULT ...} lines; arguments starting with {@code raft.} are Ratis server properties.
 */
public final class SpikeBench {
    private final Map<String, String> options = new HashMap<>();
    private final Map<String, String> ratis = new LinkedHashMap<>();
    private final Path work;

    private SpikeBench(String[] args) throws IOException {
        // Defaults chosen for 2 cores (docs/REPLICATION.md says why); any can be overridden on the command line.
        ratis.put("raft.server.log.append-entries.compose.enabled", "false");
        ratis.put("raft.server.rpc.timeout.min", "500ms");
        ratis.put("raft.server.rpc.timeout.max", "1000ms");
        ratis.put("raft.server.snapshot.auto.trigger.enabled", "false");
        for (String a : args) {
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                options.put(a.substring(2, eq < 0 ? a.length() : eq), eq < 0 ? "true" : a.substring(eq + 1));
            } else if (a.startsWith("raft.")) {
                int eq = a.indexOf('=');
                ratis.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }
        work = Path.of(opt("work", "/tmp/h13-spike-work"));
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: SpikeBench throughput|matrix|failover|partition|snapshot|resources "
                + "[--option=value ...] [raft.key=value ...]");
            System.exit(2);
        }
        SpikeBench bench = new SpikeBench(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "throughput" -> bench.throughput(Mode.valueOf(bench.opt("mode", "DOUBLE_WRITE")),
                bench.intOpt("partitions", 1), bench.intOpt("batch-bytes", 65536));
            case "matrix" -> bench.matrix();
            case "failover" -> bench.failover();
            case "partition" -> bench.partition();
            case "snapshot" -> bench.snapshot();
            case "resources" -> bench.resources();
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
        System.exit(0);
    }

    private String opt(String key, String def) {
        return options.getOrDefault(key, def);
    }

    private int intOpt(String key, int def) {
        return Integer.parseInt(opt(key, Integer.toString(def)));
    }

    private List<String> jvmArgs() {
        return List.of("-Xmx" + opt("node-xmx", "1g"), "-XX:+UseG1GC", "-Dlogback.configurationFile=spike-logback.xml",
            "-Dspike.preallocate.bytes=" + opt("preallocate-bytes", Long.toString(8L << 20)));
    }

    private RaftProperties clientProps() {
        RaftProperties p = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(p,
            TimeDuration.valueOf(intOpt("client-timeout-ms", 2000), TimeUnit.MILLISECONDS));
        return p;
    }

    private SpikeCluster cluster(String name, Mode mode, int partitions, boolean proxy) throws IOException {
        Path dir = work.resolve(name);
        deleteRecursively(dir);
        Files.createDirectories(dir);
        return new SpikeCluster(dir, mode, partitions, ratis, jvmArgs(), proxy);
    }

    // ------------------------------------------------------------------------------------------- throughput

    private void matrix() throws Exception {
        // a variant is MODE or MODE@preallocateBytes (e.g. DOUBLE_WRITE@0: no zero-fill ahead)
        List<String> variants = List.of(opt("modes", "DOUBLE_WRITE,SM_DATA,LOG_ONLY").split(","));
        String defaultPrealloc = opt("preallocate-bytes", Long.toString(8L << 20));
        List<Integer> parts = Stream.of(opt("partitions-list", "1,8").split(",")).map(Integer::parseInt).toList();
        List<Integer> sizes = Stream.of(opt("batch-list", "16384,65536").split(",")).map(Integer::parseInt).toList();
        int rounds = intOpt("rounds", 2);
        for (int r = 1; r <= rounds; r++) {
            for (int p : parts) {
                for (int s : sizes) {
                    for (String v : variants) {
                        int at = v.indexOf('@');
                        options.put("preallocate-bytes", at < 0 ? defaultPrealloc : v.substring(at + 1));
                        System.out.println("# round " + r);
                        awaitQuietMachine();
                        throughput(Mode.valueOf(at < 0 ? v : v.substring(0, at)), p, s);
                    }
                }
            }
        }
    }

    private void throughput(Mode mode, int partitions, int batchBytes) throws Exception {
        int window = intOpt("window", 8);
        int seconds = intOpt("seconds", 20);
        int warmup = intOpt("warmup", 5);
        BatchFactory batches = new BatchFactory(batchBytes, 42);
        try (SpikeCluster cluster = cluster("tp", mode, partitions, false)) {
            cluster.startAll();
            List<RaftClient> clients = new ArrayList<>();
            RetryPolicy retry = RetryPolicies.retryUpToMaximumCountWithFixedSleep(50,
                TimeDuration.valueOf(100, TimeUnit.MILLISECONDS));
            for (int p = 0; p < partitions; p++) {
                clients.add(cluster.client(p, clientProps(), retry));
            }
            awaitLeaders(clients, partitions);
            long[] cpu0 = new long[SpikeCluster.NODES];
            long start = System.nanoTime();
            long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
            long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            List<Writers.Pipelined> writers = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                Writers.Pipelined w = new Writers.Pipelined(clients.get(p), batches, 1000 + p, window, end,
                    measureFrom);
                writers.add(w);
                Thread t = new Thread(w, "writer-" + p);
                threads.add(t);
                t.start();
            }
            Await.until("warm-up over", Duration.ofSeconds(warmup + 60), () -> System.nanoTime() - measureFrom >= 0);
            for (int i = 0; i < SpikeCluster.NODES; i++) {
                cpu0[i] = cluster.cpuTicks(i);
            }
            for (Thread t : threads) {
                t.join();
            }
            long[] cpu1 = new long[SpikeCluster.NODES];
            for (int i = 0; i < SpikeCluster.NODES; i++) {
                cpu1[i] = cluster.cpuTicks(i);
            }
            Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            long measured = 0;
            long failed = 0;
            long notAppended = 0;
            for (Writers.Pipelined w : writers) {
                w.drain(30_000);
                all.add(w.histogram());
                measured += w.measuredBatches.get();
                failed += w.failed.get();
                notAppended += w.notAppended.get();
                if (w.firstError != null) {
                    System.out.println("# first error of a writer: " + w.firstError);
                }
            }
            double secs = seconds;
            double mbps = measured * (double) batches.bytes() / secs / (1 << 20);
            long ticks = 0;
            for (int i = 0; i < SpikeCluster.NODES; i++) {
                ticks += cpu1[i] - cpu0[i];
            }
            double cpuSeconds = ticks / 100.0;
            String consistent = mode == Mode.DOUBLE_WRITE ? Boolean.toString(replicasIdentical(clients, partitions,
                Duration.ofSeconds(60))) : "n/a";
            String terms = terms(clients, partitions);
            System.out.printf("RESULT throughput mode=%s partitions=%d batchBytes=%d records/batch=%d window=%d "
                    + "seconds=%d MiB/s=%.1f batches/s=%.0f p50ms=%.2f p99ms=%.2f p999ms=%.2f maxms=%.1f "
                    + "failed=%d notAppended=%d cpuSecondsAllNodes=%.1f cpuSecondsPerGiB=%.1f replicasIdentical=%s "
                    + "terms=%s preallocateBytes=%s loadavg=%s%n",
                mode, partitions, batches.bytes(), batches.records(), window, seconds, mbps, measured / secs,
                all.getValueAtPercentile(50) / 1e6, all.getValueAtPercentile(99) / 1e6,
                all.getValueAtPercentile(99.9) / 1e6, all.getMaxValue() / 1e6, failed, notAppended, cpuSeconds,
                cpuSeconds / (measured * (double) batches.bytes() / (1 << 30)), consistent, terms,
                opt("preallocate-bytes", Long.toString(8L << 20)), loadAverage());
            for (RaftClient c : clients) {
                c.close();
            }
        }
    }

    /** Waits until every partition has a leader that answers (a tiny stale read through the group's client). */
    private void awaitLeaders(List<RaftClient> clients, int partitions) {
        for (int p = 0; p < partitions; p++) {
            RaftClient c = clients.get(p);
            Await.until("a leader for partition " + p, Duration.ofSeconds(60), () -> leaderOf(c) >= 0);
        }
    }

    /** The node index of the current leader, asked from each node in turn; -1 when none knows one. */
    private static int leaderOf(RaftClient client) {
        return leaderOf(client, -1);
    }

    /** As {@link #leaderOf(RaftClient)}, not asking node {@code skip} (stopped or cut off). */
    private static int leaderOf(RaftClient client, int skip) {
        for (int i = 0; i < SpikeCluster.NODES; i++) {
            if (i == skip) {
                continue;
            }
            try {
                GroupInfoReply info = client.getGroupManagementApi(RaftPeerId.valueOf(SpikeCluster.id(i)))
                    .info(client.getGroupId());
                if (info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
                    return i;
                }
            } catch (IOException | RuntimeException e) {
                // that node is down or busy: ask the next
            }
        }
        return -1;
    }

    private static RaftPeerRole roleOf(RaftClient client, int node) {
        try {
            return client.getGroupManagementApi(RaftPeerId.valueOf(SpikeCluster.id(node))).info(client.getGroupId())
                .getRoleInfoProto().getRole();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String terms(List<RaftClient> clients, int partitions) {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < partitions; p++) {
            long term = -1;
            for (int i = 0; i < SpikeCluster.NODES && term < 0; i++) {
                try {
                    term = clients.get(p).getGroupManagementApi(RaftPeerId.valueOf(SpikeCluster.id(i)))
                        .info(clients.get(p).getGroupId()).getLogInfoProto().getLastEntry().getTerm();
                } catch (IOException | RuntimeException e) {
                    // next node
                }
            }
            sb.append(p == 0 ? "" : ",").append(term);
        }
        return sb.toString();
    }

    /** Waits until the three replicas of every partition report the same digest (applied index aside). */
    private static boolean replicasIdentical(List<RaftClient> clients, int partitions, Duration timeout) {
        try {
            for (int p = 0; p < partitions; p++) {
                RaftClient c = clients.get(p);
                int partition = p;
                Await.until(() -> "identical replicas of partition " + partition + ": " + digests(c), timeout, () -> {
                    List<String> d = digests(c);
                    return d.size() == SpikeCluster.NODES && d.stream().map(SpikeBench::content).distinct().count() == 1;
                });
            }
            return true;
        } catch (IllegalStateException e) {
            System.out.println("# " + e.getMessage());
            return false;
        }
    }

    private static List<String> digests(RaftClient c) {
        List<String> d = new ArrayList<>();
        for (int i = 0; i < SpikeCluster.NODES; i++) {
            try {
                d.add(SpikeCluster.query(c, i, "DIGEST"));
            } catch (IOException | RuntimeException e) {
                d.add("unavailable: " + e.getMessage());
            }
        }
        return d;
    }

    /** The part of a digest that must be equal on every replica (not the applied index, which includes conf). */
    private static String content(String digest) {
        StringBuilder sb = new StringBuilder();
        for (String kv : digest.split(" ")) {
            if (kv.startsWith("logEndOffset=") || kv.startsWith("batches=") || kv.startsWith("bytes=")
                || kv.startsWith("crc=") || kv.startsWith("producers=")) {
                sb.append(kv).append(' ');
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------- faults

    private List<Writers.Sequential> startSequential(SpikeCluster cluster, int partitions, boolean idempotent,
                                                     List<RaftClient> clients, List<Thread> threads) {
        BatchFactory batches = new BatchFactory(intOpt("batch-bytes", 16384), 7);
        List<Writers.Sequential> writers = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            RaftClient c = cluster.client(p, clientProps(), RetryPolicies.noRetry());
            clients.add(c);
            Writers.Sequential w = new Writers.Sequential(p, c, batches, idempotent ? 2000 + p : -1);
            writers.add(w);
            Thread t = new Thread(w, "seq-writer-" + p);
            threads.add(t);
            t.start();
        }
        for (Writers.Sequential w : writers) {
            Await.until("first ack of partition " + w.partition, Duration.ofSeconds(60), () -> w.last != null);
        }
        return writers;
    }

    private void failover() throws Exception {
        int partitions = intOpt("partitions", 1);
        int kills = intOpt("kills", 10);
        String signal = opt("signal", "KILL");
        boolean idempotent = Boolean.parseBoolean(opt("idempotent", "true"));
        int stopMs = intOpt("stop-ms", 5000);
        try (SpikeCluster cluster = cluster("failover", Mode.DOUBLE_WRITE, partitions, false)) {
            cluster.startAll();
            List<RaftClient> clients = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            List<Writers.Sequential> writers = startSequential(cluster, partitions, idempotent, clients, threads);
            List<Double> failovers = new ArrayList<>();
            for (int k = 1; k <= kills; k++) {
                int leader = writers.get(0).last.server();
                List<Writers.Sequential> led = new ArrayList<>();
                for (Writers.Sequential w : writers) {
                    if (w.last.server() == leader) {
                        led.add(w);
                    }
                }
                for (Writers.Sequential w : led) {
                    w.errors.clear();
                }
                long t0 = System.nanoTime();
                if (signal.equals("KILL")) {
                    cluster.kill(leader);
                } else {
                    cluster.signal(leader, "STOP");
                }
                double worst = 0;
                int dead = leader;
                RaftClient probe = clients.get(led.get(0).partition);
                Await.until("a new leader after the " + signal + " of " + SpikeCluster.id(leader),
                    Duration.ofSeconds(120), () -> {
                        int l = leaderOf(probe, dead);
                        return l >= 0 && l != dead;
                    });
                double electedMs = (System.nanoTime() - t0) / 1e6;
                for (Writers.Sequential w : led) {
                    Await.until("an ack after the " + signal + " of " + SpikeCluster.id(leader) + " for partition "
                        + w.partition, Duration.ofSeconds(120), () -> w.firstAckAfter(t0, dead) != null);
                    Writers.Ack a = w.firstAckAfter(t0, dead);
                    double ms = (a.doneNanos() - t0) / 1e6;
                    worst = Math.max(worst, ms);
                    System.out.printf("RESULT failover-round round=%d signal=%s killed=%s partition=%d "
                            + "leaderSeenMs=%.0f firstAckMs=%.0f newLeader=%s resendCauses=%s loadavg=%s%n", k,
                        signal, SpikeCluster.id(leader), w.partition, electedMs, ms, SpikeCluster.id(a.server()),
                        new java.util.TreeMap<>(w.errors).toString().replace(" ", ""), loadAverage());
                }
                failovers.add(worst);
                long t1 = System.nanoTime();
                if (signal.equals("KILL")) {
                    cluster.start(leader);
                    cluster.awaitReady(leader, Duration.ofSeconds(120));
                } else {
                    long holdNanos = TimeUnit.MILLISECONDS.toNanos(stopMs) - (t1 - t0);
                    if (holdNanos > 0) {
                        // the length of the fault (the process stays stopped this long), not a synchronisation
                        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(holdNanos));
                    }
                    cluster.signal(leader, "CONT");
                }
                long back = System.nanoTime();
                int rejoined = leader;
                for (RaftClient c : clients) {
                    Await.until("old leader " + SpikeCluster.id(rejoined) + " is a follower again",
                        Duration.ofSeconds(120), () -> roleOf(c, rejoined) == RaftPeerRole.FOLLOWER);
                }
                System.out.printf("RESULT failover-rejoin round=%d signal=%s node=%s followerAgainMs=%.0f%n", k,
                    signal, SpikeCluster.id(leader), (System.nanoTime() - back) / 1e6);
                // let a few more batches through before the next fault
                long acked = writers.get(0).snapshot().size();
                Await.until("progress after rejoin", Duration.ofSeconds(60),
                    () -> writers.get(0).snapshot().size() >= acked + 20);
            }
            verify("failover-" + signal + (idempotent ? "" : "-control"), cluster, writers, threads, clients,
                partitions, idempotent);
            failovers.sort(Double::compare);
            System.out.printf("RESULT failover-summary signal=%s rounds=%d minMs=%.0f medianMs=%.0f maxMs=%.0f "
                    + "electionTimeout=%s..%s loadavg=%s%n", signal, failovers.size(), failovers.get(0),
                failovers.get(failovers.size() / 2), failovers.get(failovers.size() - 1),
                ratis.get("raft.server.rpc.timeout.min"), ratis.get("raft.server.rpc.timeout.max"), loadAverage());
            for (RaftClient c : clients) {
                c.close();
            }
        }
    }

    private void partition() throws Exception {
        int partitions = intOpt("partitions", 1);
        int rounds = intOpt("rounds", 3);
        int holdMs = intOpt("hold-ms", 8000);
        boolean idempotent = Boolean.parseBoolean(opt("idempotent", "true"));
        Mode mode = Mode.valueOf(opt("mode", "DOUBLE_WRITE"));
        try (SpikeCluster cluster = cluster("partition", mode, partitions, true)) {
            cluster.startAll();
            List<RaftClient> clients = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            List<Writers.Sequential> writers = startSequential(cluster, partitions, idempotent, clients, threads);
            RaftClient c0 = clients.get(0);
            for (int r = 1; r <= rounds; r++) {
                int leader = writers.get(0).last.server();
                long t0 = System.nanoTime();
                cluster.proxy().isolate(leader);
                Writers.Sequential w = writers.get(0);
                Await.until("an ack from the majority after isolating " + SpikeCluster.id(leader),
                    Duration.ofSeconds(120), () -> {
                        Writers.Ack a = w.firstAckAfter(t0);
                        return a != null && a.server() != leader;
                    });
                Writers.Ack first = null;
                for (Writers.Ack a : w.snapshot()) {
                    if (a.doneNanos() - t0 >= 0 && a.server() != leader) {
                        first = a;
                        break;
                    }
                }
                Await.until("isolated " + SpikeCluster.id(leader) + " steps down", Duration.ofSeconds(120),
                    () -> roleOf(c0, leader) != RaftPeerRole.LEADER);
                double stepDownMs = (System.nanoTime() - t0) / 1e6;
                // acks the isolated leader gave for batches SENT after the cut: Raft says there must be none
                long fromIsolated = 0;
                for (Writers.Ack a : w.snapshot()) {
                    if (a.sentNanos() - t0 > TimeUnit.MILLISECONDS.toNanos(50) && a.server() == leader) {
                        fromIsolated++;
                    }
                }
                long hold = TimeUnit.MILLISECONDS.toNanos(holdMs) - (System.nanoTime() - t0);
                if (hold > 0) {
                    // the length of the network fault, not a synchronisation
                    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(hold));
                }
                cluster.proxy().healAll();
                long healed = System.nanoTime();
                boolean same = replicasIdentical(clients, partitions, Duration.ofSeconds(120));
                System.out.printf("RESULT partition-round round=%d isolated=%s firstMajorityAckMs=%.0f "
                        + "newLeader=%s isolatedSeenNotLeaderMs=%.0f acksFromIsolatedAfterCut=%d "
                        + "caughtUpAfterHealMs=%.0f identicalAfterHeal=%s%n", r, SpikeCluster.id(leader),
                    (first.doneNanos() - t0) / 1e6, SpikeCluster.id(first.server()), stepDownMs, fromIsolated,
                    (System.nanoTime() - healed) / 1e6, same);
                long acked = w.snapshot().size();
                Await.until("progress after heal", Duration.ofSeconds(60), () -> w.snapshot().size() >= acked + 20);
            }
            verify("partition", cluster, writers, threads, clients, partitions, idempotent);
            for (int i = 0; i < SpikeCluster.NODES; i++) {
                for (int p = 0; p < partitions; p++) {
                    System.out.println("# digest " + SpikeCluster.id(i) + " p" + p + ": "
                        + SpikeCluster.query(clients.get(p), i, "DIGEST"));
                }
            }
            for (RaftClient c : clients) {
                c.close();
            }
        }
    }

    /**
     * Stops the writers and checks every partition: replicas byte-identical; every acknowledged batch in the log
     * exactly once at the offset its answer gave; no tag twice (a duplicate) unless the producer was not
     * idempotent (the control counts them).
     */
    private void verify(String what, SpikeCluster cluster, List<Writers.Sequential> writers, List<Thread> threads,
                        List<RaftClient> clients, int partitions, boolean idempotent) throws Exception {
        for (Writers.Sequential w : writers) {
            w.running = false;
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        boolean identical = replicasIdentical(clients, partitions, Duration.ofSeconds(120));
        long acked = 0;
        long dupAnswers = 0;
        long resends = 0;
        long logBatches = 0;
        long dupInLog = 0;
        long missing = 0;
        long wrongOffset = 0;
        for (Writers.Sequential w : writers) {
            byte[] rows = SpikeCluster.queryBytes(clients.get(w.partition), 0, "BATCHES");
            ByteBuffer b = ByteBuffer.wrap(rows);
            Map<Long, Long> offsetByTag = new HashMap<>();
            while (b.remaining() >= PartitionStateMachine.BATCH_ROW) {
                b.getLong();
                b.getInt();
                b.getInt();
                long baseOffset = b.getLong();
                long tag = b.getLong();
                logBatches++;
                if (offsetByTag.putIfAbsent(tag, baseOffset) != null) {
                    dupInLog++;
                }
            }
            for (Writers.Ack a : w.snapshot()) {
                acked++;
                if (a.outcome() == EntryLayout.DUPLICATE) {
                    dupAnswers++;
                }
                Long at = offsetByTag.get(a.tag());
                if (at == null) {
                    missing++;
                } else if (at != a.baseOffset()) {
                    wrongOffset++;
                }
            }
            resends += w.resends.get();
        }
        System.out.printf("RESULT verify test=%s idempotent=%s ackedBatches=%d duplicateAnswers=%d resends=%d "
                + "batchesInLog=%d duplicatesInLog=%d ackedMissing=%d ackedAtWrongOffset=%d replicasIdentical=%s "
                + "loadavg=%s%n",
            what, idempotent, acked, dupAnswers, resends, logBatches, dupInLog, missing, wrongOffset, identical,
            loadAverage());
    }

    // ------------------------------------------------------------------------------------------- snapshot

    private void snapshot() throws Exception {
        String lag = opt("lag", "new");
        int beforeMiB = intOpt("before-mib", 128);
        int whileDownMiB = intOpt("while-down-mib", 64);
        // small Raft segments and purging up to the snapshot, so the follower cannot catch up from the log
        ratis.putIfAbsent("raft.server.log.segment.size.max", "8MB");
        ratis.putIfAbsent("raft.server.log.purge.upto.snapshot.index", "true");
        ratis.putIfAbsent("raft.server.log.purge.gap", "1");
        BatchFactory batches = new BatchFactory(65536, 3);
        try (SpikeCluster cluster = cluster("snapshot", Mode.DOUBLE_WRITE, 1, false)) {
            cluster.startAll();
            RaftClient client = cluster.client(0, clientProps(), RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                50, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)));
            awaitLeaders(List.of(client), 1);
            Writers.Sequential writer = new Writers.Sequential(0, client, batches, 3000);
            int leader = leaderOf(client);
            int follower = (leader + 1) % SpikeCluster.NODES;
            writeMiB(writer, beforeMiB, batches);
            cluster.kill(follower);
            writeMiB(writer, whileDownMiB, batches);
            long s0 = System.nanoTime();
            RaftClientReply snap = client.getSnapshotManagementApi(RaftPeerId.valueOf(SpikeCluster.id(leader)))
                .create(60_000);
            double snapshotMs = (System.nanoTime() - s0) / 1e6;
            if (!snap.isSuccess()) {
                throw new IOException("snapshot failed: " + snap.getException());
            }
            long leaderBytes = smBytes(cluster.nodeDir(leader));
            if (lag.equals("new")) {
                deleteRecursively(cluster.nodeDir(follower));
            }
            long i0 = System.nanoTime();
            cluster.start(follower);
            cluster.awaitReady(follower, Duration.ofSeconds(120));
            String want = content(SpikeCluster.query(client, leader, "DIGEST"));
            Await.until(() -> "follower caught up: " + digests(client), Duration.ofSeconds(300), () -> {
                try {
                    return content(SpikeCluster.query(client, follower, "DIGEST")).equals(want);
                } catch (IOException | RuntimeException e) {
                    return false;
                }
            });
            double installMs = (System.nanoTime() - i0) / 1e6;
            String followerLog = ChildJvm.tail(cluster.logFile(follower), 8 << 20);
            boolean installed = followerLog.contains("successfully install the entire snapshot");
            double transferMs = logSpanMs(followerLog, "receive installSnapshot", "successfully install the entire");
            System.out.printf("RESULT snapshot lag=%s snapshotIndex=%d takeSnapshotMs=%.0f smDirMiB=%.1f "
                    + "restartToIdenticalMs=%.0f installedBySnapshot=%s firstChunkToInstalledMs=%.0f transferMiB/s=%.1f "
                    + "digest=%s loadavg=%s%n", lag,
                snap.getLogIndex(), snapshotMs, leaderBytes / 1048576.0, installMs, installed, transferMs,
                leaderBytes / 1048576.0 / (transferMs / 1000), want.trim().replace(' ', ';'), loadAverage());
            client.close();
        }
    }

    /** Milliseconds between the first log line containing {@code from} and the first containing {@code to}. */
    private static double logSpanMs(String log, String from, String to) {
        long a = -1;
        long b = -1;
        for (String line : log.split("\n")) {
            if (line.length() < 12 || !Character.isDigit(line.charAt(0))) {
                continue;
            }
            if (a < 0 && line.contains(from)) {
                a = java.time.LocalTime.parse(line.substring(0, 12)).toNanoOfDay();
            } else if (a >= 0 && b < 0 && line.contains(to)) {
                b = java.time.LocalTime.parse(line.substring(0, 12)).toNanoOfDay();
            }
        }
        return a < 0 || b < 0 ? -1 : (b - a) / 1e6;
    }

    private static void writeMiB(Writers.Sequential writer, int mib, BatchFactory batches) {
        long n = (long) mib * 1048576 / batches.bytes();
        Thread t = new Thread(() -> {
            long target = writer.snapshot().size() + n;
            writer.running = true;
            Thread runner = new Thread(writer, "snap-writer");
            runner.start();
            Await.until("written " + mib + " MiB", Duration.ofSeconds(600), () -> writer.snapshot().size() >= target);
            writer.running = false;
            try {
                runner.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long smBytes(Path nodeDir) throws IOException {
        try (Stream<Path> s = Files.walk(nodeDir)) {
            return s.filter(p -> p.toString().contains("/sm/") && Files.isRegularFile(p)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    // ------------------------------------------------------------------------------------------- resources

    private void resources() throws Exception {
        List<Integer> parts = Stream.of(opt("partitions-list", "1,8,32").split(",")).map(Integer::parseInt).toList();
        BatchFactory batches = new BatchFactory(16384, 5);
        String profile = opt("profile", "default");
        for (int p : parts) {
            try (SpikeCluster cluster = cluster("res", Mode.DOUBLE_WRITE, p, false)) {
                cluster.startAll();
                List<RaftClient> clients = new ArrayList<>();
                for (int i = 0; i < p; i++) {
                    clients.add(cluster.client(i, clientProps(), RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        50, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS))));
                }
                awaitLeaders(clients, p);
                for (int i = 0; i < p; i++) {
                    for (int k = 0; k < 20; k++) {
                        clients.get(i).io().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(
                            batches.batch(4000 + i, (short) 0, k * batches.records(), k))));
                    }
                }
                for (int n = 0; n < SpikeCluster.NODES; n++) {
                    String stats = SpikeCluster.query(clients.get(0), n, "STATS");
                    System.out.printf("RESULT resources profile=%s partitions=%d node=%s rssMiB=%d %s%n", profile, p,
                        SpikeCluster.id(n), cluster.rssKiB(n) / 1024, stats);
                }
                for (RaftClient c : clients) {
                    c.close();
                }
            }
        }
    }

    /**
     * On a machine shared with other builds, waits (at most --quiet-wait-s, default 600) for the 1-minute load
     * average to fall below --quiet-load (default 3.0) before a measured run; runs anyway after that, and the
     * result line says what the load was.
     */
    private void awaitQuietMachine() {
        double limit = Double.parseDouble(opt("quiet-load", "3.0"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(intOpt("quiet-wait-s", 600));
        while (System.nanoTime() - deadline < 0) {
            try {
                if (Double.parseDouble(loadAverage()) < limit) {
                    return;
                }
                // polling the machine's load, not synchronising with anything we started
                Thread.sleep(5000);
            } catch (NumberFormatException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The 1-minute load average (the machine is shared: every figure says how busy it was). */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

}
