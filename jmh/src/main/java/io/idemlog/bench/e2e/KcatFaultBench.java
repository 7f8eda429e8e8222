package io.idemlog.bench.e2e;

import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultKind;
import io.idemlog.testkit.FaultProxy;
import io.idemlog.testkit.LogReader;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * kcat WITHOUT idempotence through the {@link FaultProxy} (issue 14): answers dropped with the connection reset,
 * Produce requests duplicated, against idemlog at several {@code queued.max.requests.per.connection} values and
 * against an Apache Kafka broker, one after the other with the same seed. After each run the topic is read back
 * straight from the server and every record's number (the line it came from) counted: duplicates = records stored
 * minus distinct lines, losses = lines never stored.
 *
 * <p>Why the numbers differ between servers: a dropped answer resets the connection, and librdkafka re-sends every
 * request that was in flight on it (without idempotence, each one the server had appended is stored twice). A
 * server that reads all of a connection's pipelined requests ahead of their answers has appended more of them
 * when the reset comes than one that reads the next request only once the previous one is answered (Kafka mutes a
 * connection's channel while a request is processed).
 */
final class KcatFaultBench {
    private final long records;
    private final int size;
    private final int partitions;
    private final double dropRate;
    private final double duplicateRate;
    private final List<Integer> queued;
    /** Also a run with queued.max.requests.per.connection=100 and produce.non.idempotent.one.at.a.time=true. */
    private final boolean oneAtATimeRun;
    private final boolean kafka;
    private final String kafkaClasspath;
    private final String kafkaVersion;
    private final int socketTimeoutMs;
    private final int lingerMs;
    private final long seed;
    private final List<String> extraKcat;
    private final Map<String, String> idemlogProps;
    private final List<String> serverJvm;
    private final Path outDir;
    private final String tag;
    private final Path work;

    KcatFaultBench(Opts o) throws IOException {
        records = o.longValue("records", 1_000_000);
        size = o.integer("size", 100);
        partitions = o.integer("partitions", 1);
        dropRate = o.doubles("drop-rate", "0.02").get(0);
        duplicateRate = o.doubles("duplicate-rate", "0.02").get(0);
        queued = o.ints("queued", "1,2,5,100");
        oneAtATimeRun = o.bool("one-at-a-time-run", true);
        kafka = o.bool("kafka", true);
        String cpFile = o.str("kafka-classpath", null);
        kafkaClasspath = cpFile == null ? null : Files.readString(Path.of(cpFile)).trim();
        kafkaVersion = kafkaClasspath == null ? org.apache.kafka.common.utils.AppInfoParser.getVersion()
            : Target.versionOf(kafkaClasspath);
        socketTimeoutMs = o.integer("socket-timeout-ms", 3000);
        lingerMs = o.integer("linger-ms", 5);
        seed = o.longValue("seed", 1);
        extraKcat = o.list("kcat-props", "");
        idemlogProps = o.props("idemlog-props");
        serverJvm = List.of(o.str("server-jvm", "-Xms1g -Xmx1g -XX:+UseG1GC").split(" "));
        outDir = Path.of(o.str("out", "docs/benchmarks"));
        tag = o.str("tag", "kcat-faults-" + LocalDate.now(ZoneOffset.UTC));
        work = Path.of(o.str("work", "/tmp/idemlog-bench-" + ProcessHandle.current().pid()));
        o.rejectUnknown();
    }

    record Result(String server, String setting, double seconds, long stored, long distinct, long lost,
                  Map<FaultKind, Long> faults, long proxiedRequests, int connections, double load) {
        long duplicates() {
            return stored - distinct;
        }
    }

    int run() throws IOException {
        String kcat = Driver.kcatPath();
        if (kcat == null) {
            throw new IllegalStateException("kcat not found on the PATH (apt-get install kcat)");
        }
        Files.createDirectories(work);
        Files.createDirectories(outDir);
        Path input = input();
        List<Result> results = new ArrayList<>();
        try (Out out = new Out(outDir.resolve(tag + ".txt"))) {
            out.line("idemlog kcat-faults benchmark, started " + java.time.Instant.now());
            out.line("machine: " + Proc.machine());
            out.line("load average at start: " + Proc.loadAverages());
            out.line(String.format(Locale.ROOT, "setup: kcat -P -E (do not exit on non-fatal errors; enable.idempotence=false acks=all linger.ms=%d "
                    + "socket.timeout.ms=%d, librdkafka's default max.in.flight) -> FaultProxy (seed %d: %.1f %% of "
                    + "answers dropped with the connection reset, %.1f %% of Produce requests duplicated) -> server; "
                    + "%,d lines x %d B, %d partition(s); then the topic read back and each line's number counted",
                lingerMs, socketTimeoutMs, seed, dropRate * 100, duplicateRate * 100, records, size, partitions));
            List<Integer> settings = new ArrayList<>(queued);
            if (oneAtATimeRun) {
                settings.add(-100);
            }
            for (int q : settings) {
                Map<String, Integer> topics = Map.of("kf", partitions);
                Map<String, String> props = new java.util.HashMap<>(idemlogProps);
                props.put("queued.max.requests.per.connection", String.valueOf(Math.abs(q)));
                String setting = "queued.max.requests.per.connection=" + Math.abs(q);
                if (q < 0) {
                    props.put("produce.non.idempotent.one.at.a.time", "true");
                    setting = "one.at.a.time=true, queued=" + Math.abs(q);
                }
                Path dir = work.resolve("idemlog-q" + q);
                try (Target t = Target.idemlog(dir, topics, serverJvm, props)) {
                    results.add(runOne(out, kcat, input, t, setting));
                }
                Bench.deleteTree(dir);
            }
            if (kafka) {
                try (Target t = Target.kafka(work.resolve("kafka"), Map.of("kf", partitions), serverJvm,
                    kafkaClasspath)) {
                    results.add(runOne(out, kcat, input, t, "Kafka " + kafkaVersion + " defaults"));
                }
                Bench.deleteTree(work.resolve("kafka"));
            }
            out.line("");
            out.line("== summary (duplicates / injected faults: records stored twice per fault)");
            out.line("   %-8s %-42s | %8s | %10s %8s | %6s %6s | %12s %12s | %5s", "server", "setting", "seconds",
                "duplicates", "losses", "drops", "dups", "dup/drop", "connections", "load");
            for (Result r : results) {
                long drops = r.faults().getOrDefault(FaultKind.DROP_RESPONSE, 0L);
                long dupReqs = r.faults().getOrDefault(FaultKind.DUPLICATE_REQUEST, 0L);
                out.line(String.format(Locale.ROOT, "   %-8s %-42s | %8.1f | %,10d %,8d | %6d %6d | %12.0f %12d | %5.2f",
                    r.server(), r.setting(), r.seconds(), r.duplicates(), r.lost(), drops, dupReqs,
                    drops == 0 ? Double.NaN : (double) r.duplicates() / drops, r.connections(), r.load()));
            }
            Path csv = outDir.resolve(tag + "-kcat-faults.csv");
            StringBuilder sb = new StringBuilder("server,setting,records,seconds,stored,distinct,duplicates,losses,"
                + "drop_response,duplicate_request,proxied_requests,connections,load1\n");
            for (Result r : results) {
                sb.append(String.join(",", r.server(), r.setting(), String.valueOf(records),
                    RunResult.num(r.seconds()), String.valueOf(r.stored()), String.valueOf(r.distinct()),
                    String.valueOf(r.duplicates()), String.valueOf(r.lost()),
                    String.valueOf(r.faults().getOrDefault(FaultKind.DROP_RESPONSE, 0L)),
                    String.valueOf(r.faults().getOrDefault(FaultKind.DUPLICATE_REQUEST, 0L)),
                    String.valueOf(r.proxiedRequests()), String.valueOf(r.connections()),
                    RunResult.num(r.load()))).append('\n');
            }
            Files.writeString(csv, sb.toString());
            out.line("raw: " + csv);
        } finally {
            Bench.deleteTree(work);
        }
        return 0;
    }

    private Result runOne(Out out, String kcat, Path input, Target target, String setting) throws IOException {
        FaultConfig config = FaultConfig.builder(seed).rate(FaultKind.DROP_RESPONSE, dropRate)
            .rate(FaultKind.DUPLICATE_REQUEST, duplicateRate).build();
        try (FaultProxy proxy = FaultProxy.start(target.address(), config)) {
            List<String> cmd = new ArrayList<>(List.of(kcat, "-P", "-E", "-b", proxy.bootstrap(), "-t", "kf",
                "-X", "enable.idempotence=false", "-X", "acks=all", "-X", "linger.ms=" + lingerMs,
                "-X", "socket.timeout.ms=" + socketTimeoutMs));
            for (String kv : extraKcat) {
                if (!kv.isBlank()) {
                    cmd.addAll(List.of("-X", kv));
                }
            }
            cmd.addAll(List.of("-l", input.toString()));
            Path log = work.resolve("kcat.log");
            Files.writeString(log, "=== " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
                while (!p.waitFor(2, TimeUnit.SECONDS)) {
                    out.progress(String.format(Locale.ROOT, "%s %s: kcat running, %d faults injected, %,d requests",
                        target.name(), setting, proxy.totalFaults(), proxy.requests()));
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("kcat still running after 15 minutes; see " + log);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } finally {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            int exit = p.exitValue();
            long deliveryFailures = 0;
            List<String> firstErrors = new ArrayList<>();
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.contains("Delivery failed")) {
                    deliveryFailures++;
                }
                if ((line.startsWith("%") || line.contains("ERROR")) && firstErrors.size() < 5) {
                    firstErrors.add(line.length() > 200 ? line.substring(0, 200) : line);
                }
            }
            Files.writeString(log, "");
            if (exit != 0 || deliveryFailures > 0) {
                out.line(String.format(Locale.ROOT, "   kcat exit %d, %d delivery failures; first lines: %s", exit,
                    deliveryFailures, firstErrors));
            }
            Map<FaultKind, Long> faults = proxy.counts();
            long proxied = proxy.requests();
            int connections = proxy.connectionsAccepted();
            double load = Proc.load1();
            BitSet seen = new BitSet((int) records);
            long[] stored = {0};
            long[] foreign = {0};
            try (LogReader reader = new LogReader(target.address())) {
                reader.readAll("kf", r -> {
                    stored[0]++;
                    long line = lineNumber(r.value());
                    if (line < 0 || line >= records) {
                        foreign[0]++;
                    } else {
                        seen.set((int) line);
                    }
                });
            }
            long distinct = seen.cardinality();
            Result r = new Result(target.name(), setting, seconds, stored[0], distinct, records - distinct, faults,
                proxied, connections, load);
            out.line(String.format(Locale.ROOT, "RUN %-8s %-42s %.1f s | stored %,d, distinct %,d: duplicates %,d, "
                    + "losses %,d%s | faults: %d answers dropped (+ reset), %d requests duplicated, %,d requests, "
                    + "%d connections | load %.2f", r.server(), setting, seconds, r.stored(), distinct,
                r.duplicates(), r.lost(), foreign[0] > 0 ? ", " + foreign[0] + " unreadable" : "",
                faults.getOrDefault(FaultKind.DROP_RESPONSE, 0L), faults.getOrDefault(FaultKind.DUPLICATE_REQUEST, 0L),
                proxied, connections, load));
            return r;
        }
    }

    /** The line number a value starts with (the digits before the padding), -1 if none. */
    private static long lineNumber(byte[] v) {
        if (v == null || v.length == 0) {
            return -1;
        }
        long n = 0;
        int i = 0;
        for (; i < v.length && v[i] >= '0' && v[i] <= '9'; i++) {
            n = n * 10 + (v[i] - '0');
        }
        return i == 0 ? -1 : n;
    }

    /** {@code records} lines of exactly {@code size} bytes: the line number, then 'x' padding. */
    private Path input() {
        Path file = work.resolve("kcat-faults-" + records + "x" + size + ".txt");
        try (BufferedWriter wr = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            String pad = "x".repeat(Math.max(0, size));
            for (long i = 0; i < records; i++) {
                String num = Long.toString(i);
                wr.write(num);
                if (num.length() < size) {
                    wr.write(pad, 0, size - num.length());
                }
                wr.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
