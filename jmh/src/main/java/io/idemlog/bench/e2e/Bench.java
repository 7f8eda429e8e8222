package io.idemlog.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The end-to-end harness's entry point: {@code Bench e2e|peer|faults|plot [--option value]...}. See
 * {@code jmh/bench.sh} and docs/BENCHMARKS.md for the options and what each mode prints.
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /**
     * Runs one mode; returns the exit code (0 ok, 2 usage, 3 a fault-benchmark control showed no duplicates, 4 e2e /
     * peer / cluster: a topic does not hold exactly the records sent to it over the whole run).
     */
    public static int run(String... args) throws IOException {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String mode = args[0];
        Opts opts = new Opts(java.util.Arrays.copyOfRange(args, 1, args.length));
        return switch (mode) {
            case "e2e", "peer", "cluster" -> comparisons(mode, opts);
            case "faults" -> new FaultBench(opts).run();
            case "kcat-faults" -> new KcatFaultBench(opts).run();
            case "plot" -> Plots.run(opts);
            default -> {
                System.err.println("unknown mode " + mode + "\n" + USAGE);
                yield 2;
            }
        };
    }

    static final String USAGE = """
        usage: jmh/bench.sh e2e|peer|cluster|faults|kcat-faults|plot [--option value]...
          common: --records 1000000 --size 100 --acks all --idempotence true --linger-ms 5 --batch-size 65536
                  --warmup 100000 (records sent first by each run's producer, not measured) --rounds N
                  --warmup-round true|false (a discarded round 0 first; default true for peer, false for e2e)
                  --partitioner sticky|roundrobin --out docs/benchmarks --tag NAME --work DIR --keep-work false
                  --server-jvm "-Xms1g -Xmx1g -XX:+UseG1GC" (both servers' JVM options)
                  --kafka-version V (peer: the Kafka broker's version, e.g. 4.4.0; default the project's
                  kafka4.version; bench.sh resolves its jars into a --kafka-classpath FILE)
                  --idemlog-props name=value,... (idemlog server properties, e.g. log.flush.thread=flusher)
                  --baseline-server-jar JAR (peer: side B is an idemlog server from JAR, e.g. an earlier build's
                  log-server/target/idemlog-server.jar, instead of Kafka: a change's same-run regression ratio)
                  --baseline-props name=value,... (peer: side B is an idemlog server with these properties on top
                  of --idemlog-props, e.g. log.flush.thread=flusher; with or without --baseline-server-jar)
          e2e:    idemlog server only. --clients idemlog,kafka,kcat,kcat-default (none to skip) --partitions 1,8
                  --rate 0 (0 = max-throughput mode; >0 = fixed-rate latency mode, records/s) --rounds 3
          peer:   idemlog vs Apache Kafka, same workloads, alternating rounds (--rounds 5).
                  --clients kafka,idemlog,kcat,kcat-default --partitions 1,8 (max-throughput pairs)
                  --latency-clients kafka,idemlog --latency-partitions 8 --latency-rate 50000
                  --latency-records 500000 (fixed-rate pairs; --latency-clients none to skip)
                  --idem-cost-clients kafka,idemlog --idem-cost-partitions 1,8 (idemlog, idempotence on vs off;
                  none to skip)
                  --compression-clients idemlog,kafka --compression-codecs lz4,zstd --compression-partitions 1
                  (text-like values, compression.type none vs each codec, both against idemlog; default none)
          cluster: a 3-node idemlog cluster vs a 3-broker Apache Kafka cluster (KRaft), same machine, topics RF=3
                  (min.insync.replicas=2 on both), bootstrap = the three nodes, alternating rounds (--rounds 3),
                  ratios; server CPU = the sum of the three server JVMs'. --clients kafka,idemlog,kcat
                  --partitions 1,8 --kafka-version V (other pair kinds: --latency-clients / --idem-cost-clients,
                  default none)
          e2e/peer: --dedup-cost-partitions 1,8 (idemlog producer, a unique 16-byte key in header dedup-id per
                  record on both sides; A's topic has dedup.header=dedup-id, B's not; default none)
                  --dedup-cost-compression lz4 (that compression.type and text-like values on both sides of
                  the dedup-cost pairs; default none)
          faults: --records 2000000 --partitions 8 --batch-size 16384 --rates 0,0.001,0.01,0.05 --kill true
                  --control true (idempotence off too) --direct true (a run without the proxy too)
                  --warmup-run true (one discarded fault-free run first)
                  --request-timeout-ms 500 --fault-delay-ms 750 --warmup 200000 --rounds 3 --seed 1
                  --history-during-run arrays (acked offsets in long[]s while measuring; objects: the
                  HistoryChecker's per-record objects, the harness's GC pauses before 2026-12-03)
                  --producer-props / --compare-props name=value,... (producer properties; the "on*" runs)
                  --compare-server-props name=value,... (the "on*" runs' server gets these on top of
                  --idemlog-props, e.g. log.flush.thread=flusher: server settings side by side)
          kcat-faults: kcat WITHOUT idempotence through the fault proxy, idemlog at each --queued value
                  (queued.max.requests.per.connection) then Kafka: duplicates and losses counted.
                  --records 1000000 --size 100 --partitions 1 --drop-rate 0.02 --duplicate-rate 0.02
                  --queued 1,2,5,100 --one-at-a-time-run true (+ produce.non.idempotent.one.at.a.time) --kafka true --kafka-version V --socket-timeout-ms 3000 --linger-ms 5
                  --kcat-props name=value,... (more -X for kcat) --seed 1
          plot:   --in docs/benchmarks --tag NAME (reads NAME-runs.csv / NAME-faults.csv, writes NAME-*.png)
        """;

    /** The e2e and peer modes: build the comparisons, start the servers, run the rounds, summarize. */
    private static int comparisons(String mode, Opts o) throws IOException {
        // cluster: peer's pairs, each side a 3-node cluster (idemlog vs Kafka) instead of one server
        boolean cluster = mode.equals("cluster");
        boolean peer = mode.equals("peer") || cluster;
        Workload base = new Workload(ClientKind.IDEMLOG, 1, o.longValue("records", 1_000_000), o.integer("size", 100),
            o.str("acks", "all"), o.bool("idempotence", true), o.integer("linger-ms", 5),
            o.integer("batch-size", 65536), o.longValue("rate", 0), o.longValue("warmup", 100_000));
        int rounds = o.integer("rounds", cluster ? 3 : peer ? 5 : 3);
        boolean warmupRound = o.bool("warmup-round", peer);
        List<ClientKind> clients = none(o.list("clients", cluster ? "kafka,idemlog,kcat"
            : peer ? "kafka,idemlog,kcat,kcat-default"
            : "idemlog,kafka,kcat,kcat-default"));
        List<Integer> partitions = o.ints("partitions", "1,8");
        List<ClientKind> latClients = none(o.list("latency-clients", peer && !cluster ? "kafka,idemlog" : "none"));
        List<Integer> latPartitions = o.ints("latency-partitions", "8");
        long latRate = o.longValue("latency-rate", 50_000);
        long latRecords = o.longValue("latency-records", 500_000);
        List<ClientKind> costClients = none(o.list("idem-cost-clients", peer && !cluster ? "kafka,idemlog"
            : "none"));
        List<Integer> costPartitions = o.ints("idem-cost-partitions", "1,8");
        List<ClientKind> compClients = none(o.list("compression-clients", "none"));
        List<String> codecs = o.list("compression-codecs", "lz4,zstd");
        List<Integer> compPartitions = o.ints("compression-partitions", "1");
        List<Integer> dedupPartitions = o.str("dedup-cost-partitions", "none").equals("none") ? List.of()
            : o.ints("dedup-cost-partitions", "1,8");
        String dedupCompression = o.str("dedup-cost-compression", "none");
        String partitioner = o.str("partitioner", "sticky");
        Path outDir = Path.of(o.str("out", "docs/benchmarks"));
        String tag = o.str("tag", mode + "-" + LocalDate.now(ZoneOffset.UTC));
        Path work = Path.of(o.str("work", "/tmp/idemlog-bench-" + ProcessHandle.current().pid()));
        boolean keepWork = o.bool("keep-work", false);
        List<String> serverJvm = List.of(o.str("server-jvm", "-Xms1g -Xmx1g -XX:+UseG1GC").split(" "));
        Map<String, String> idemlogProps = o.props("idemlog-props");
        String kafkaClasspathFile = o.str("kafka-classpath", null);
        String kafkaClasspath = kafkaClasspathFile == null ? null
            : java.nio.file.Files.readString(Path.of(kafkaClasspathFile)).trim();
        // peer with --baseline-server-jar JAR: side B is an idemlog server run from that (fat) jar, an earlier build,
        // instead of Kafka: the single-node regression ratio of a change, measured side by side (issue 13 item 6)
        String baselineJar = o.str("baseline-server-jar", null);
        // --baseline-props name=value,...: side B is an idemlog server with these properties on top of
        // --idemlog-props (e.g. log.flush.thread=flusher vs network), from --baseline-server-jar or this build
        Map<String, String> baselineProps = o.props("baseline-props");
        boolean baseline = baselineJar != null || !baselineProps.isEmpty();
        o.rejectUnknown();
        if (baseline && (!peer || cluster)) {
            throw new IllegalArgumentException("--baseline-server-jar and --baseline-props need the peer mode");
        }
        if (cluster && (!dedupPartitions.isEmpty() || !compClients.isEmpty())) {
            throw new IllegalArgumentException("cluster: --dedup-cost-partitions and --compression-clients are "
                + "single-node pairs (use peer or e2e)");
        }
        if (baselineJar != null && !Files.isRegularFile(Path.of(baselineJar))) {
            throw new IllegalArgumentException("--baseline-server-jar " + baselineJar + ": no such file");
        }
        if (base.idempotence() && !base.acks().equals("all") && !base.acks().equals("-1")) {
            throw new IllegalArgumentException("idempotence needs --acks all");
        }
        for (ClientKind c : clients) {
            if (c.kcat() && Driver.kcatPath() == null) {
                throw new IllegalArgumentException("kcat is not on the PATH (apt-get install kcat), or drop it from "
                    + "--clients");
            }
        }

        // The comparisons and the topics they need, one per side (created at server start)
        record Spec(String name, String aLabel, boolean aKafka, Workload a, String bLabel, boolean bKafka,
                    Workload b) {
        }
        List<Spec> specs = new ArrayList<>();
        String bName = baseline ? "idemlog baseline" : "kafka";
        for (int p : partitions) {
            for (ClientKind c : clients) {
                Workload w = base.withClient(c).withPartitions(p);
                if (peer) {
                    specs.add(new Spec(mode + " " + w.key(), cluster ? "idemlog 3-node" : "idemlog", false, w,
                        cluster ? "kafka 3-broker" : bName, true, w));
                } else {
                    specs.add(new Spec("e2e " + w.key(), "idemlog", false, w, null, false, null));
                }
            }
        }
        for (int p : latPartitions) {
            for (ClientKind c : latClients) {
                Workload w = base.withClient(c).withPartitions(p).withRate(latRate, latRecords);
                specs.add(new Spec("latency " + w.key(), "idemlog", false, w, bName, true, w));
            }
        }
        for (int p : costPartitions) {
            for (ClientKind c : costClients) {
                Workload on = base.withClient(c).withPartitions(p).withIdempotence(true);
                specs.add(new Spec("idem-cost " + c.label + "/p" + p, "idemlog idempotence on", false, on,
                    "idemlog idempotence off", false, on.withIdempotence(false)));
            }
        }
        for (int p : compPartitions) {
            for (ClientKind c : compClients) {
                Workload none = base.withClient(c).withPartitions(p).withCompression("none", true);
                for (String codec : codecs) {
                    specs.add(new Spec("compression " + c.label + "/p" + p + "/" + codec, "idemlog none", false,
                        none, "idemlog " + codec, false, none.withCompression(codec, true)));
                }
            }
        }
        // De-duplication cost (issue 11): the idemlog producer sends a unique key header per record on both sides;
        // only side A's topic has dedup.header set (so only the server-side key check differs)
        List<String> dedupTopics = new ArrayList<>();
        for (int p : dedupPartitions) {
            Workload w = base.withClient(ClientKind.IDEMLOG).withPartitions(p).withDedupHeader(DEDUP_HEADER);
            if (!dedupCompression.equals("none")) {
                w = w.withCompression(dedupCompression, true);
            }
            dedupTopics.add("t" + specs.size() + "a");
            specs.add(new Spec("dedup-cost idemlog/p" + p + (dedupCompression.equals("none") ? ""
                : "/" + dedupCompression), "idemlog dedup on", false, w, "idemlog dedup off", false,
                w));
        }
        Map<String, Integer> idemlogTopics = new LinkedHashMap<>();
        Map<String, Integer> kafkaTopics = new LinkedHashMap<>();
        for (int i = 0; i < specs.size(); i++) {
            Spec s = specs.get(i);
            (s.aKafka() ? kafkaTopics : idemlogTopics).put("t" + i + "a", s.a().partitions());
            if (s.b() != null) {
                (s.bKafka() ? kafkaTopics : idemlogTopics).put("t" + i + "b", s.b().partitions());
            }
        }

        Files.createDirectories(work);
        deleteOnExit(work, keepWork);
        try (Out out = new Out(outDir.resolve(tag + ".txt"))) {
            header(out, mode, o, work);
            Target idemlog = null;
            Target kafka = null;
            try {
                idemlog = cluster ? Target.idemlogCluster(work, idemlogTopics, serverJvm, idemlogProps)
                    : Target.idemlog(work, idemlogTopics, serverJvm, idemlogProps);
                out.line("server A: " + idemlog.describe());
                if (!dedupTopics.isEmpty()) {
                    out.line("dedup.header=%s set on %s: %s", DEDUP_HEADER, dedupTopics,
                        setTopicConfig(idemlog, dedupTopics, "dedup.header", DEDUP_HEADER));
                }
                if (!kafkaTopics.isEmpty()) {
                    Map<String, String> bProps = new LinkedHashMap<>(idemlogProps);
                    bProps.putAll(baselineProps);
                    kafka = cluster ? Target.kafkaCluster(work, kafkaTopics, serverJvm, kafkaClasspath)
                        : baseline
                        ? Target.idemlog(work.resolve("baseline"), kafkaTopics, serverJvm, bProps, baselineJar)
                        : Target.kafka(work, kafkaTopics, serverJvm, kafkaClasspath);
                    out.line("server B: " + kafka.describe());
                }
                List<PairRunner.Comparison> comps = new ArrayList<>();
                for (int i = 0; i < specs.size(); i++) {
                    Spec s = specs.get(i);
                    PairRunner.Side a = new PairRunner.Side(s.aLabel(), s.aKafka() ? kafka : idemlog, "t" + i + "a",
                        s.a());
                    PairRunner.Side b = s.b() == null ? null : new PairRunner.Side(s.bLabel(),
                        s.bKafka() ? kafka : idemlog, "t" + i + "b", s.b());
                    comps.add(new PairRunner.Comparison(s.name(), a, b));
                }
                out.line("comparisons (%d, each run once per round, sides alternating A B / B A):", comps.size());
                for (PairRunner.Comparison c : comps) {
                    out.line("  %s: %s%s", c.name(), c.a().workload().describe(),
                        c.b() == null ? "" : " | A = " + c.a().label() + ", B = " + c.b().label());
                }
                out.line("latency = from send() (max-throughput mode) or the record's scheduled time (fixed-rate "
                    + "mode) to its callback; max-throughput latency includes queueing in the producer.");
                out.line("server CPU = utime+stime of the server JVM (/proc/<pid>/stat; a cluster: summed over its "
                    + "three JVMs) over the measured part; "
                    + "client CPU = the whole harness JVM's (in-JVM producers) or the kcat process's.");
                out.line("Between runs (untimed) the harness runs sync, so that no run pays for another's writeback.");
                PairRunner runner = new PairRunner(mode, new Driver(work, out, partitioner), out);
                long t0 = System.nanoTime();
                List<RunResult> runs = runner.run(comps, rounds, warmupRound, outDir.resolve(tag + "-runs.csv"));
                runner.summarize(comps, runs, outDir.resolve(tag + "-summary.csv"));
                out.line("");
                boolean totalsOk = runner.checkTopicTotals();
                out.line("");
                out.line("done in %.0f s; load average at the end %s; every run %s the log with exactly the records "
                    + "sent", (System.nanoTime() - t0) / 1e9, Proc.loadAverages(),
                    runs.stream().allMatch(RunResult::countOk) ? "grew" : "!!! DID NOT ALL grow");
                out.line("raw runs: %s, summary: %s", outDir.resolve(tag + "-runs.csv"),
                    outDir.resolve(tag + "-summary.csv"));
                Plots.plotQuietly(out, outDir, tag);
                if (!totalsOk) {
                    return 4;
                }
            } finally {
                if (kafka != null) {
                    kafka.close();
                }
                if (idemlog != null) {
                    idemlog.close();
                }
            }
        } finally {
            if (!keepWork) {
                deleteTree(work);
            }
        }
        return 0;
    }

    /** The header that carries the de-duplication key in the dedup-cost comparison. */
    static final String DEDUP_HEADER = "dedup-id";

    /** Sets a topic config through IncrementalAlterConfigs and answers the value DescribeConfigs then reads back. */
    static Map<String, String> setTopicConfig(Target target, List<String> topics, String name, String value) {
        java.util.Properties p = new java.util.Properties();
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            Map<org.apache.kafka.common.config.ConfigResource,
                java.util.Collection<org.apache.kafka.clients.admin.AlterConfigOp>> ops = new LinkedHashMap<>();
            List<org.apache.kafka.common.config.ConfigResource> resources = new ArrayList<>();
            for (String t : topics) {
                var r = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t);
                resources.add(r);
                ops.put(r, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry(name, value),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)));
            }
            admin.incrementalAlterConfigs(ops).all().get(60, java.util.concurrent.TimeUnit.SECONDS);
            Map<String, String> readBack = new LinkedHashMap<>();
            admin.describeConfigs(resources).all().get(60, java.util.concurrent.TimeUnit.SECONDS)
                .forEach((r, c) -> {
                    var e = c.get(name);
                    readBack.put(r.name(), e == null ? null : e.value());
                });
            for (String t : topics) {
                if (!value.equals(readBack.get(t))) {
                    throw new IllegalStateException("topic " + t + " did not take " + name + "=" + value + ": "
                        + readBack);
                }
            }
            return readBack;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot set " + name + " on " + topics + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<ClientKind> none(List<String> list) {
        if (list.size() == 1 && list.get(0).equals("none")) {
            return List.of();
        }
        return list.stream().map(ClientKind::parse).toList();
    }

    /** What was run, where, when: the header of every output. */
    static void header(Out out, String mode, Opts o, Path work) {
        out.line("idemlog end-to-end benchmark, mode %s, started %s", mode, Instant.now().truncatedTo(ChronoUnit.SECONDS));
        out.line("options:%s", o.given());
        out.line("commit: %s", git());
        out.line("machine: %s", Proc.machine());
        out.line("load average at start: %s", Proc.loadAverages());
        out.line("fsync probe: %s", Proc.fsyncProbe(work, 200));
        out.line("kcat: %s", Driver.kcatPath() == null ? "not found" : Driver.kcatPath());
    }

    private static String git() {
        return Proc.run(10, "git", "describe", "--always", "--dirty", "--abbrev=10").trim();
    }

    /** If the JVM is stopped (SIGTERM, Ctrl-C) before the finally blocks run: the work folder goes anyway. */
    static void deleteOnExit(Path work, boolean keep) {
        if (!keep) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    deleteTree(work);
                } catch (RuntimeException e) {
                    System.err.println("could not delete " + work + ": " + e);
                }
            }, "bench-work-cleanup"));
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // deleted meanwhile (the shutdown hook and the finally block may both try)
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
