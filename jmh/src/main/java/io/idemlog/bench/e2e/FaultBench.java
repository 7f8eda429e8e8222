package io.idemlog.bench.e2e;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerMetrics;
import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultKind;
import io.idemlog.testkit.FaultProxy;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.HistoryReport;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.RecordTag;
import io.idemlog.testkit.ServerProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The duplicate-injection benchmark: idemlog's producer, through a {@link FaultProxy}, into an idemlog server, at
 * several mixed fault rates (lost ack + reset, reset mid-request, response delayed past the request timeout,
 * duplicated request; each a quarter of the rate) and across a server SIGKILL + restart; with idempotence on, and
 * the control with it off. Every run: a fresh server and data directory, a fresh proxy (seed = base seed + round,
 * the same for both idempotence settings of a round), a new producer, {@code warmup} tagged records with faults
 * off, then the measured {@code records} with faults on; then the whole topic is read back straight from the
 * server (not through the proxy) and checked by {@link HistoryChecker}: duplicates, losses, order, offsets.
 */
final class FaultBench {
    private final long records;
    private final int size;
    private final int partitions;
    private final List<Double> rates;
    private final boolean kill;
    private final boolean control;
    private final boolean direct;
    private final boolean warmupRun;
    private final int requestTimeoutMs;
    private final int delayMs;
    private final int lingerMs;
    private final int batchSize;
    private final long warmup;
    private final int rounds;
    private final long seed;
    private final Path outDir;
    private final String tag;
    private final Path work;
    private final boolean keepWork;
    private final List<String> serverJvm;
    private final Map<String, String> idemlogProps;
    /** Extra producer properties for every run (e.g. stall.timeout.ms=0 to measure a lever by its absence). */
    private final Map<String, String> producerProps;
    /**
     * With --compare-props: every idempotent run is repeated, right after, with these producer properties on top
     * (mode "on*"), so that a lever is measured side by side with its absence in the same round.
     */
    private final Map<String, String> compareProps;
    /**
     * With --compare-server-props: the same side-by-side repeat (mode "on*"), its server started with these
     * properties on top of --idemlog-props (e.g. log.flush.thread=flusher); with --compare-props too, both apply.
     */
    private final Map<String, String> compareServerProps;
    /**
     * --history-during-run arrays (default): during the measured part the acknowledged offsets go into one long[]
     * per producer name and the {@link HistoryChecker} is filled after it; objects: the checker's per-record objects
     * during the run, as before 2026-12-03 (its growing live set made this JVM's young collections copy hundreds
     * of MB: 100-3000 ms pauses that froze the producer and the proxy, see {@link Pauses}).
     */
    private final boolean objectHistory;
    private final Opts opts;

    FaultBench(Opts o) {
        records = o.longValue("records", 2_000_000);
        size = o.integer("size", 100);
        partitions = o.integer("partitions", 8);
        rates = o.doubles("rates", "0,0.001,0.01,0.05");
        kill = o.bool("kill", true);
        control = o.bool("control", true);
        direct = o.bool("direct", true);
        warmupRun = o.bool("warmup-run", true);
        requestTimeoutMs = o.integer("request-timeout-ms", 500);
        delayMs = o.integer("fault-delay-ms", 750);
        lingerMs = o.integer("linger-ms", 5);
        batchSize = o.integer("batch-size", 16384);
        warmup = o.longValue("warmup", 200_000);
        rounds = o.integer("rounds", 3);
        seed = o.longValue("seed", 1);
        outDir = Path.of(o.str("out", "docs/benchmarks"));
        tag = o.str("tag", "faults-" + LocalDate.now(ZoneOffset.UTC));
        work = Path.of(o.str("work", "/tmp/idemlog-bench-" + ProcessHandle.current().pid()));
        keepWork = o.bool("keep-work", false);
        serverJvm = List.of(o.str("server-jvm", "-Xms1g -Xmx1g -XX:+UseG1GC").split(" "));
        idemlogProps = o.props("idemlog-props");
        producerProps = o.props("producer-props");
        compareProps = o.props("compare-props");
        compareServerProps = o.props("compare-server-props");
        String history = o.str("history-during-run", "arrays");
        if (!history.equals("arrays") && !history.equals("objects")) {
            throw new IllegalArgumentException("--history-during-run arrays|objects, not " + history);
        }
        objectHistory = history.equals("objects");
        o.rejectUnknown();
        if (!rates.contains(0.0)) {
            throw new IllegalArgumentException("--rates must contain 0: the fault-free run is the reference");
        }
        opts = o;
    }

    /** One scenario: a fault rate, with or without a SIGKILL; or the reference without the proxy. */
    record Scenario(double rate, boolean kill, boolean direct) {
        String label() {
            if (direct) {
                return "no proxy";
            }
            String r = rate == 0 ? "0" : String.format(Locale.ROOT, "%s%%", trim(rate * 100));
            return kill ? "faults " + r + " + SIGKILL" : "faults " + r;
        }

        private static String trim(double d) {
            return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
        }
    }

    /** The figures of one run. */
    /** Idempotence on or off; {@code variant}: with --compare-props. */
    record Mode(boolean idem, boolean variant) {
        String label() {
            return (idem ? "on" : "off") + (variant ? "*" : "");
        }
    }

    record Result(int round, Scenario scenario, boolean idempotence, boolean variant, double seconds, long acked, long failed,
                  HistoryReport report, Map<FaultKind, Long> faults, long proxiedRequests, long restartMs,
                  double serverCpu, long batchesRetried, long epochBumps, double load1, Recovery recovery,
                  Pauses.Summary pauses) {
        double recordsPerSecond(long n) {
            return n / seconds;
        }
    }

    /** How the producer recovered during the measured part of a run (ProducerMetrics deltas). */
    record Recovery(long requestTimeouts, long stalledConnections, long answersLost, long probesSent,
                    long connectionFailures) {
        static Recovery of(ProducerMetrics m) {
            return new Recovery(m.requestTimeouts(), m.stalledConnections(), m.answersLost(), m.probesSent(),
                m.connectionFailures());
        }

        Recovery minus(Recovery o) {
            return new Recovery(requestTimeouts - o.requestTimeouts, stalledConnections - o.stalledConnections,
                answersLost - o.answersLost, probesSent - o.probesSent, connectionFailures - o.connectionFailures);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "request timeouts %d, stalls %d, answers lost %d, probes %d, "
                + "failed requests %d", requestTimeouts, stalledConnections, answersLost, probesSent,
                connectionFailures);
        }
    }

    /** Producer counters, proxy counters, the sockets of the proxy and the server, the producer's I/O thread. */
    private static String stallReport(IdemlogProducer producer, FaultProxy proxy, ServerProcess server) {
        ProducerMetrics m = producer.metrics();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "producer: in flight %d, requests sent %d, batches sent %d, retried %d, "
            + "connection failures %d, buffer used %d / available %d, waiters %d, epoch bumps %d; proxy: %s, "
            + "%d requests", m.requestsInFlight(), m.requestsSent(), m.batchesSent(), m.batchesRetried(),
            m.connectionFailures(), m.bufferPoolUsedBytes(), m.bufferPoolAvailableBytes(), m.bufferPoolWaiters(),
            m.epochBumps(), proxy, proxy.requests()));
        sb.append("\n  sockets (ss -tni):\n").append(Proc.run(10, "ss", "-tni", "( sport = :"
            + proxy.address().getPort() + " or dport = :" + proxy.address().getPort() + " or sport = :"
            + server.address().getPort() + " or dport = :" + server.address().getPort() + " )").indent(4));
        for (java.lang.management.ThreadInfo t : java.lang.management.ManagementFactory.getThreadMXBean()
            .dumpAllThreads(false, false)) {
            if (t.getThreadName().startsWith("idemlog-producer") || t.getThreadName().startsWith("fault-proxy")) {
                sb.append("  thread ").append(t.getThreadName()).append(' ').append(t.getThreadState());
                for (StackTraceElement e : t.getStackTrace()) {
                    sb.append("\n      at ").append(e);
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    int run() throws IOException {
        List<Scenario> scenarios = new ArrayList<>();
        if (direct) {
            scenarios.add(new Scenario(0, false, true));
        }
        for (double r : rates) {
            scenarios.add(new Scenario(r, false, false));
        }
        if (kill) {
            scenarios.add(new Scenario(0, true, false));
        }
        List<Mode> modes = new ArrayList<>(List.of(new Mode(true, false)));
        if (compared()) {
            modes.add(new Mode(true, true));
        }
        if (control) {
            modes.add(new Mode(false, false));
        }
        Path csv = outDir.resolve(tag + "-faults.csv");
        PairRunner.write(csv, CSV_HEADER + "\n");
        List<Result> results = new ArrayList<>();
        Files.createDirectories(work);
        Bench.deleteOnExit(work, keepWork);
        boolean controlFailed = false;
        try (Out out = new Out(outDir.resolve(tag + ".txt"))) {
            Bench.header(out, "faults", opts, work);
            out.line("setup: idemlog producer -> FaultProxy (mixed faults, each kind a quarter of the rate; delayed "
                + "responses held %d ms) -> idemlog server (fresh data dir per run). %,d x %d B, %d partitions "
                + "(record i to partition i %% %d), acks=all, linger.ms=%d, batch.size=%d (smaller than the peer "
                + "workload's 65536 by default: more requests per run, so that a rate means more faults), "
                + "request.timeout.ms=%d, "
                + "retry.backoff.ms=100 (default), max.in.flight=5, producer props %s. Warm-up: %,d records with faults off. "
                + "SIGKILL scenario: the server is killed when half the records have been sent, and restarted at "
                + "once on the same port and data. Then every record is read back from the server and checked.",
                delayMs, records, size, partitions, partitions, lingerMs, batchSize, requestTimeoutMs,
                producerProps.isEmpty() ? "(defaults)" : producerProps, warmup);
            if (compared()) {
                out.line("mode on* = idempotence on with producer props %s and server props %s on top, run right "
                    + "after the same scenario's idempotence-on run (side by side)", compareProps, compareServerProps);
            }
            out.line("throughput = measured records / (first send() to last callback), client-side, including "
                + "stalls, retries and the restart.");
            if (warmupRun) {
                out.line("--- warm-up run (JIT of the harness JVM), discarded:");
                out.line("WARMUP " + line(runOne(out, 0, new Scenario(0, false, false), true)).substring(4));
            }
            for (int r = 1; r <= rounds; r++) {
                out.line("--- round %d of %d (load %s), seed %d", r, rounds, Proc.loadAverages(), seed + r);
                List<Scenario> order = new ArrayList<>(scenarios);
                if (r % 2 == 0) {
                    Collections.reverse(order);
                }
                for (Scenario s : order) {
                    List<Mode> modeOrder = new ArrayList<>(modes);
                    if (r % 2 == 0) {
                        Collections.reverse(modeOrder);
                    }
                    for (Mode mode : modeOrder) {
                        if (s.direct() && (!mode.idem() || mode.variant())) {
                            continue;
                        }
                        Result res = runOne(out, r, s, mode.idem(), mode.variant());
                        results.add(res);
                        out.line(line(res));
                        Files.writeString(csv, csv(res) + "\n", StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.APPEND);
                    }
                }
            }
            controlFailed = summarize(out, scenarios, modes, results);
            out.line("raw runs: %s", csv);
            Plots.plotQuietly(out, outDir, tag);
        } finally {
            if (!keepWork) {
                Bench.deleteTree(work);
            }
        }
        return controlFailed ? 3 : 0;
    }

    /** Whether an "on*" mode runs (--compare-props or --compare-server-props). */
    private boolean compared() {
        return !compareProps.isEmpty() || !compareServerProps.isEmpty();
    }

    private Result runOne(Out out, int round, Scenario s, boolean idem) throws IOException {
        return runOne(out, round, s, idem, false);
    }

    private Result runOne(Out out, int round, Scenario s, boolean idem, boolean variant) throws IOException {
        String id = "r" + round + "-" + s.label().replaceAll("[^a-zA-Z0-9.]+", "_") + "-idem-" + (idem ? "on" : "off")
            + (variant ? "-variant" : "");
        Path dir = work.resolve(id);
        String topic = "faults";
        FaultConfig config = FaultConfig.builder(seed + round).mixed(s.rate()).delay(Duration.ofMillis(delayMs))
            .build();
        HistoryChecker checker = new HistoryChecker();
        ServerProcess.Builder builder = ServerProcess.builder(dir.resolve("data")).logFile(dir.resolve("server.log"))
            .startupTimeout(Duration.ofSeconds(120)) // 2 cores shared with other builds: starts took over 30 s
            .jvmArgs(serverJvm.toArray(String[]::new)).override("create.topics", topic + ":" + partitions)
            .override("auto.create.topics.enable", "false");
        List<String> jvm = new ArrayList<>(serverJvm);
        Path serverGcLog = dir.resolve("server-gc.log");
        jvm.add("-Xlog:gc:file=" + serverGcLog + ":uptime");
        builder.jvmArgs(jvm.toArray(String[]::new));
        String metricsEndpoint = "http://127.0.0.1:" + freePort();
        builder.override("metrics.listener", metricsEndpoint);
        idemlogProps.forEach(builder::override);
        if (variant) {
            compareServerProps.forEach(builder::override);
        }
        metricsEndpoint = idemlogProps.getOrDefault("metrics.listener", metricsEndpoint);
        History history = new History(warmup, records);
        try (ServerProcess server = builder.start();
             FaultProxy proxy = FaultProxy.start(server.address(), config)) {
            proxy.setFaultsEnabled(false);
            Properties p = new Properties();
            p.put("bootstrap.servers", s.direct() ? server.bootstrap() : proxy.bootstrap());
            p.put("acks", "all");
            p.put("enable.idempotence", String.valueOf(idem));
            p.put("linger.ms", String.valueOf(lingerMs));
            p.put("batch.size", String.valueOf(batchSize));
            p.put("request.timeout.ms", String.valueOf(requestTimeoutMs));
            producerProps.forEach(p::put);
            if (variant) {
                compareProps.forEach(p::put);
            }
            AtomicLong done = new AtomicLong();
            AtomicLong acked = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            long restartMs = -1;
            long proxied0 = 0;
            double serverCpu;
            long seconds0;
            long end;
            long retried;
            long bumps;
            Recovery recovery;
            Pauses.AckGaps gaps = new Pauses.AckGaps();
            Pauses.HarnessGc harnessGc;
            Pauses.ServerCounts server0;
            Pauses.ServerCounts server1;
            double serverGcFrom;
            try (IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.fromProperties(p))) {
                sendAll(producer, topic, "warm", warmup, checker, history, null, new AtomicLong(), new AtomicLong(),
                    new AtomicLong());
                producer.flush();
                proxy.setFaultsEnabled(s.rate() > 0);
                proxied0 = proxy.requests();
                ProducerMetrics m = producer.metrics();
                long retried0 = m.batchesRetried();
                long bumps0 = m.epochBumps();
                Recovery recovery0 = Recovery.of(m);
                double cpu0 = Proc.cpuSeconds(server.pid());
                String what = "faults " + s.label() + " idempotence " + new Mode(idem, variant).label();
                ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "bench-progress");
                    t.setDaemon(true);
                    return t;
                });
                long[] lastDone = {-1L, 0L};
                progress.scheduleAtFixedRate(() -> {
                    long d = done.get();
                    out.progress(String.format(Locale.ROOT, "%s: %,d / %,d done, %d faults injected", what, d,
                        records, proxy.totalFaults()));
                    // No progress for 10 s: print what the producer, the proxy and the sockets look like, once per
                    // stall, so that a rare hang can be diagnosed from the output alone.
                    lastDone[1] = d == lastDone[0] ? lastDone[1] + 1 : 0;
                    lastDone[0] = d;
                    if (lastDone[1] == 5) {
                        out.line("STALL %s: no record completed for 10 s; %s", what, stallReport(producer, proxy,
                            server));
                    }
                }, 2, 2, TimeUnit.SECONDS);
                CompletableFuture<Long> restart = null;
                serverGcFrom = Pauses.lastUptime(serverGcLog);
                server0 = Pauses.scrape(metricsEndpoint);
                harnessGc = Pauses.HarnessGc.start();
                seconds0 = System.nanoTime();
                gaps.start(seconds0);
                try {
                    String producerName = "run";
                    long half = records / 2;
                    sendAll(producer, topic, producerName, half, checker, history, gaps, done, acked, failed);
                    if (s.kill()) {
                        restart = CompletableFuture.supplyAsync(() -> {
                            long k0 = System.nanoTime();
                            server.kill();
                            server.start();
                            return (System.nanoTime() - k0) / 1_000_000;
                        });
                    }
                    sendRange(producer, topic, producerName, half, records, checker, history, gaps, done, acked,
                        failed);
                    producer.flush();
                    while (done.get() < records) {
                        LockSupport.parkNanos(100_000);
                    }
                    end = System.nanoTime();
                } finally {
                    progress.shutdownNow();
                    harnessGc.stop();
                }
                server1 = Pauses.scrape(metricsEndpoint);
                if (restart != null) {
                    restartMs = restart.join();
                    serverCpu = Double.NaN; // two processes; the first one's CPU is gone with it
                } else {
                    serverCpu = Proc.cpuSeconds(server.pid()) - cpu0;
                }
                retried = m.batchesRetried() - retried0;
                bumps = m.epochBumps() - bumps0;
                recovery = Recovery.of(m).minus(recovery0);
            }
            Map<FaultKind, Long> faults = proxy.counts();
            long proxied = s.direct() ? 0 : proxy.requests() - proxied0;
            double load = Proc.load1();
            history.replay(checker, producerNameOf("warm"), producerNameOf("run"));
            double[] serverGc = Pauses.serverGc(serverGcLog, serverGcFrom);
            Pauses.ServerCounts serverDelta = server1.minus(server0);
            Pauses.Summary pauses = new Pauses.Summary(gaps.count(), gaps.maxMs(), harnessGc.over(),
                harnessGc.maxMs(), harnessGc.totalMs(), serverGc[0], serverGc[1], serverDelta.slowProduce(),
                serverDelta.slowFsyncs());
            try (LogReader reader = new LogReader(server.address())) {
                reader.readAll(topic, checker::logged);
            }
            HistoryReport report = checker.check();
            Proc.sync();
            return new Result(round, s, idem, variant, (end - seconds0) / 1e9, acked.get(), failed.get(), report, faults,
                proxied, restartMs, serverCpu, retried, bumps, load, recovery, pauses);
        } finally {
            if (!keepWork) {
                Bench.deleteTree(dir);
            }
        }
    }

    private void sendAll(IdemlogProducer producer, String topic, String name, long n, HistoryChecker checker,
                         History history, Pauses.AckGaps gaps, AtomicLong done, AtomicLong acked, AtomicLong failed) {
        sendRange(producer, topic, name, 0, n, checker, history, gaps, done, acked, failed);
        if (name.equals("warm")) {
            producer.flush();
        }
    }

    private void sendRange(IdemlogProducer producer, String topic, String name, long from, long to,
                           HistoryChecker checker, History history, Pauses.AckGaps gaps, AtomicLong done,
                           AtomicLong acked, AtomicLong failed) {
        long[] offsets = history.offsets(name);
        for (long i = from; i < to; i++) {
            int partition = (int) (i % partitions);
            RecordTag tag = new RecordTag(name, partition, i);
            byte[] value = tag.encode(size);
            int index = (int) i;
            if (objectHistory) {
                checker.sent(tag);
            } else {
                history.sent(name, i + 1);
            }
            producer.send(topic, partition, null, value, null, (md, e) -> {
                if (gaps != null) {
                    gaps.ack(System.nanoTime());
                }
                if (e == null) {
                    if (objectHistory) {
                        checker.acked(new RecordTag(name, partition, index), md.offset());
                    } else {
                        History.ack(offsets, index, md.offset(), name, history);
                    }
                    acked.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
                done.incrementAndGet();
            });
        }
    }

    private static String producerNameOf(String name) {
        return name;
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * The producer side of the history as primitive arrays during the measured run: per producer name, the offset
     * each record was acknowledged at ({@link #NOT_ACKED} until then), and how many were handed to the producer.
     * Replayed into the {@link HistoryChecker} after the run, so that its objects do not exist while measuring.
     */
    private final class History {
        static final long NOT_ACKED = Long.MIN_VALUE;
        private final long[] warm;
        private final long[] run;
        private long warmSent;
        private long runSent;
        /** Tags acknowledged twice at different offsets (rare: replayed as two acks, the checker reports them). */
        private final List<long[]> secondAcks = Collections.synchronizedList(new ArrayList<>());

        History(long warmRecords, long runRecords) {
            warm = new long[objectHistory ? 0 : (int) warmRecords];
            run = new long[objectHistory ? 0 : (int) runRecords];
            java.util.Arrays.fill(warm, NOT_ACKED);
            java.util.Arrays.fill(run, NOT_ACKED);
        }

        long[] offsets(String name) {
            return name.equals("warm") ? warm : run;
        }

        void sent(String name, long count) {
            if (name.equals("warm")) {
                warmSent = Math.max(warmSent, count);
            } else {
                runSent = Math.max(runSent, count);
            }
        }

        static void ack(long[] offsets, int index, long offset, String name, History h) {
            long previous = offsets[index];
            if (previous == NOT_ACKED) {
                offsets[index] = offset;
            } else {
                h.secondAcks.add(new long[] {name.equals("warm") ? 0 : 1, index, offset});
            }
        }

        /** Hands everything to the checker (objects mode: nothing, it has it all). */
        void replay(HistoryChecker checker, String warmName, String runName) {
            if (objectHistory) {
                return;
            }
            replay(checker, warmName, warm, warmSent);
            replay(checker, runName, run, runSent);
            for (long[] a : secondAcks) {
                String name = a[0] == 0 ? warmName : runName;
                checker.acked(new RecordTag(name, (int) (a[1] % partitions), a[1]), a[2]);
            }
        }

        private void replay(HistoryChecker checker, String name, long[] offsets, long sent) {
            for (int i = 0; i < sent; i++) {
                RecordTag tag = new RecordTag(name, i % partitions, i);
                checker.sent(tag);
                if (offsets[i] != NOT_ACKED) {
                    checker.acked(tag, offsets[i]);
                }
            }
        }
    }

    private String line(Result r) {
        HistoryReport h = r.report();
        return String.format(Locale.ROOT,
            "RUN r%d %-22s idempotence %-3s %,10.0f rec/s (%.2f s) | acked %,d failed %,d | duplicates %,d "
                + "losses %,d order violations %,d offset mismatches %,d%s | faults %s in %,d requests | retried batches %,d, "
                + "epoch bumps %d%s | %s | server CPU %s | load %.2f | %s%s",
            r.round(), r.scenario().label(), new Mode(r.idempotence(), r.variant()).label(), r.recordsPerSecond(records),
            r.seconds(), r.acked(), r.failed(), h.duplicates(), h.losses(), h.orderViolations(),
            h.offsetMismatches(), h.isClean() ? "" : " (" + defects(h) + ")", faultCounts(r.faults()), r.proxiedRequests(),
            r.batchesRetried(), r.epochBumps(), r.restartMs() >= 0 ? ", restart " + r.restartMs() + " ms" : "",
            r.recovery(),
            Double.isNaN(r.serverCpu()) ? "n/a (killed)" : String.format(Locale.ROOT, "%.2f s/Mrec",
                r.serverCpu() / (records / 1e6)),
            r.load1(), r.pauses(), flag(r));
    }

    private static String defects(HistoryReport h) {
        StringBuilder sb = new StringBuilder();
        for (HistoryReport.Defect d : HistoryReport.Defect.values()) {
            if (h.count(d) > 0) {
                sb.append(sb.length() == 0 ? "" : ", ").append(h.count(d)).append(' ').append(d.label());
            }
        }
        return sb.toString();
    }

    private static String flag(Result r) {
        boolean faulty = r.scenario().rate() > 0 || r.scenario().kill();
        if (r.idempotence() && !r.report().isClean()) {
            return "  !!! IDEMPOTENT RUN NOT CLEAN";
        }
        if (!r.idempotence() && faulty && r.report().duplicates() == 0) {
            return "  !!! CONTROL (idempotence off) SHOWED NO DUPLICATES";
        }
        return "";
    }

    private static String faultCounts(Map<FaultKind, Long> m) {
        return String.format(Locale.ROOT, "%d (drop %d, reset %d, delay %d, dup %d)",
            m.values().stream().mapToLong(Long::longValue).sum(), m.get(FaultKind.DROP_RESPONSE),
            m.get(FaultKind.RESET_MID_REQUEST), m.get(FaultKind.DELAY_RESPONSE), m.get(FaultKind.DUPLICATE_REQUEST));
    }

    static final String CSV_HEADER = "round,scenario,fault_rate,kill,proxy,idempotence,records,seconds,records_per_s,"
        + "acked,failed,duplicates,losses,order_violations,offset_mismatches,clean,faults_total,drop_response,"
        + "reset_mid_request,delay_response,duplicate_request,proxied_requests,retried_batches,epoch_bumps,restart_ms,"
        + "server_cpu_s_per_mrec,load1,request_timeouts,stalled_connections,answers_lost,probes_sent,variant,"
        + "ack_gaps_100ms,ack_gap_max_ms,harness_gc_100ms,harness_gc_max_ms,harness_gc_total_ms,server_gc_100ms,"
        + "server_gc_max_ms,server_produce_100ms,server_fsync_100ms";

    private String csv(Result r) {
        HistoryReport h = r.report();
        Map<FaultKind, Long> f = r.faults();
        return String.join(",", String.valueOf(r.round()), r.scenario().label(), String.valueOf(r.scenario().rate()),
            String.valueOf(r.scenario().kill()), String.valueOf(!r.scenario().direct()),
            String.valueOf(r.idempotence()), String.valueOf(records), RunResult.num(r.seconds()),
            RunResult.num(r.recordsPerSecond(records)), String.valueOf(r.acked()), String.valueOf(r.failed()),
            String.valueOf(h.duplicates()), String.valueOf(h.losses()), String.valueOf(h.orderViolations()),
            String.valueOf(h.offsetMismatches()), String.valueOf(h.isClean()),
            String.valueOf(f.values().stream().mapToLong(Long::longValue).sum()),
            String.valueOf(f.get(FaultKind.DROP_RESPONSE)), String.valueOf(f.get(FaultKind.RESET_MID_REQUEST)),
            String.valueOf(f.get(FaultKind.DELAY_RESPONSE)), String.valueOf(f.get(FaultKind.DUPLICATE_REQUEST)),
            String.valueOf(r.proxiedRequests()), String.valueOf(r.batchesRetried()), String.valueOf(r.epochBumps()), String.valueOf(r.restartMs()),
            RunResult.num(r.serverCpu() / (records / 1e6)), RunResult.num(r.load1()),
            String.valueOf(r.recovery().requestTimeouts()), String.valueOf(r.recovery().stalledConnections()),
            String.valueOf(r.recovery().answersLost()), String.valueOf(r.recovery().probesSent()),
            String.valueOf(r.variant()),
            String.valueOf(r.pauses().ackGaps()), RunResult.num(r.pauses().ackGapMaxMs()),
            String.valueOf(r.pauses().harnessGc()), String.valueOf(r.pauses().harnessGcMaxMs()),
            String.valueOf(r.pauses().harnessGcTotalMs()), RunResult.num(r.pauses().serverGc()),
            RunResult.num(r.pauses().serverGcMaxMs()), RunResult.num(r.pauses().serverSlowProduce()),
            RunResult.num(r.pauses().serverSlowFsyncs()));
    }

    /** Prints the per-scenario table; returns true if a control run set showed no duplicates at all. */
    private boolean summarize(Out out, List<Scenario> scenarios, List<Mode> modes, List<Result> results) {
        out.line("");
        out.line("== summary over %d rounds: median [min-max] records/s; fraction = this run / the fault-free run "
            + "(faults 0, through the proxy) of the same round and idempotence setting; defects summed over rounds",
            rounds);
        out.line("   %-22s %-5s | %-32s | %-20s | %10s %7s %7s %7s | %s", "scenario", "idem", "records/s",
            "fraction of fault-free", "duplicates", "losses", "order", "offset", "faults injected (sum)");
        boolean controlFailed = false;
        Scenario reference = new Scenario(0, false, false);
        for (Scenario s : scenarios) {
            for (Mode mode : modes) {
                boolean idem = mode.idem();
                if (s.direct() && (!idem || mode.variant())) {
                    continue;
                }
                List<Result> rs = results.stream().filter(x -> x.scenario().equals(s) && x.idempotence() == idem
                    && x.variant() == mode.variant()).toList();
                double[] rps = rs.stream().mapToDouble(x -> x.recordsPerSecond(records)).toArray();
                double[] frac = rs.stream().mapToDouble(x -> {
                    Result ref = results.stream().filter(y -> y.round() == x.round() && y.scenario().equals(reference)
                        && y.idempotence() == idem && y.variant() == mode.variant()).findFirst().orElse(null);
                    return ref == null ? Double.NaN : x.recordsPerSecond(records) / ref.recordsPerSecond(records);
                }).toArray();
                long dups = rs.stream().mapToLong(x -> x.report().duplicates()).sum();
                long losses = rs.stream().mapToLong(x -> x.report().losses()).sum();
                long order = rs.stream().mapToLong(x -> x.report().orderViolations()).sum();
                long offsets = rs.stream().mapToLong(x -> x.report().offsetMismatches()).sum();
                long faults = rs.stream().mapToLong(x -> x.faults().values().stream().mapToLong(Long::longValue)
                    .sum()).sum();
                boolean faulty = s.rate() > 0 || s.kill();
                String flag = "";
                if (idem && rs.stream().anyMatch(x -> !x.report().isClean())) {
                    flag = "  !!! NOT CLEAN WITH IDEMPOTENCE ON";
                }
                if (!idem && faulty && dups == 0) {
                    flag = "  !!! CONTROL SHOWED NO DUPLICATES: this scenario proves nothing about idempotence";
                    controlFailed = true;
                }
                out.line("   %-22s %-5s | %-32s | %-20s | %,10d %,7d %,7d %,7d | %,d%s", s.label(), mode.label(),
                    Stats.mmm(rps, "%,.0f"), s.direct() ? "n/a" : Stats.mmm(frac, "%.3f"), dups, losses, order,
                    offsets, faults, flag);
            }
        }
        return controlFailed;
    }
}
