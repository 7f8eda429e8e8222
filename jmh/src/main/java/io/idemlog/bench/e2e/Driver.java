package io.idemlog.bench.e2e;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.common.record.Header;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one workload against one target and measures it.
 *
 * <p>In-JVM clients (idemlog's producer, kafka-clients): a new producer per run; {@code warmup} records first
 * (same producer, same topic, not measured); then the measured part, from the first send() to the last
 * acknowledgement. The latency of a record runs from its send() (max-throughput mode) or from its scheduled time
 * (fixed-rate mode) to its callback. kcat: a child process per run, timed from start to exit (so its start-up,
 * metadata and InitProducerId are inside), with a warm-up process before it.
 */
final class Driver {
    private static final long ACK_WAIT_NANOS = TimeUnit.MINUTES.toNanos(5);

    private final Path workDir;
    private final Out out;
    private final String partitioner;

    /**
     * @param partitioner "sticky" (null key, the client's own choice: sticky partitioning in kafka-clients,
     *                    idemlog and librdkafka) or "roundrobin" (explicit partition i % P; in-JVM clients only)
     */
    Driver(Path workDir, Out out, String partitioner) {
        this.workDir = workDir;
        this.out = out;
        if (!partitioner.equals("sticky") && !partitioner.equals("roundrobin")) {
            throw new IllegalArgumentException("--partitioner sticky|roundrobin, not " + partitioner);
        }
        this.partitioner = partitioner;
    }

    /** Runs {@code w} against {@code target} on {@code topic} and returns its figures. */
    RunResult run(String bench, int round, String comparison, String side, Target target, String topic, Workload w) {
        RunResult r = w.client().kcat() ? runKcat(bench, round, comparison, side, target, topic, w)
            : runInJvm(bench, round, comparison, side, target, topic, w);
        Proc.sync(); // untimed: no run pays for the writeback of the previous run's dirty pages
        return r;
    }

    // ------------------------------------------------------------------------------------------------------
    // in-JVM producers

    /** The two in-JVM producers behind one interface: send one value with a per-record completion. */
    private interface Client extends AutoCloseable {
        void send(String topic, int partition, byte[] value, int index, Acks acks);

        void flush();

        /** Produce requests sent so far, -1 if unknown. */
        long requests();

        @Override
        void close();
    }

    /** Receives completions: latency in place of the send time, failures counted. */
    private static final class Acks {
        final long[] t;
        final AtomicLong done = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<Throwable> firstError = new AtomicReference<>();

        Acks(int n) {
            t = new long[n];
        }

        void complete(int i, Throwable e) {
            long now = System.nanoTime();
            if (e == null) {
                t[i] = now - t[i];
            } else {
                t[i] = -1;
                failed.incrementAndGet();
                firstError.compareAndSet(null, e);
            }
            done.incrementAndGet();
        }
    }

    private Client client(Target target, Workload w) {
        Properties p = new Properties();
        p.put("bootstrap.servers", target.bootstrap());
        p.put("acks", w.acks());
        p.put("enable.idempotence", String.valueOf(w.idempotence()));
        p.put("linger.ms", String.valueOf(w.lingerMs()));
        p.put("batch.size", String.valueOf(w.batchSize()));
        p.put("compression.type", w.compression());
        if (w.client() == ClientKind.IDEMLOG) {
            IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.fromProperties(p));
            String dedupHeader = w.dedupHeader();
            long nonce = System.nanoTime();
            return new Client() {
                private long counter;

                @Override
                public void send(String topic, int partition, byte[] value, int index, Acks acks) {
                    Header[] headers = null;
                    if (dedupHeader != null) {
                        // a unique key per record: this producer's nonce, then a per-producer counter
                        headers = new Header[] {new Header(dedupHeader, ByteBuffer.allocate(16).putLong(nonce)
                            .putLong(counter++).array())};
                    }
                    producer.send(topic, partition, null, value, headers, (md, e) -> acks.complete(index, e));
                }

                @Override
                public void flush() {
                    producer.flush();
                }

                @Override
                public long requests() {
                    return producer.metrics().requestsSent();
                }

                @Override
                public void close() {
                    producer.close();
                }
            };
        }
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
        return new Client() {
            @Override
            public void send(String topic, int partition, byte[] value, int index, Acks acks) {
                producer.send(new ProducerRecord<>(topic, partition < 0 ? null : partition, null, value),
                    (md, e) -> acks.complete(index, e));
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public long requests() {
                for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
                    if (e.getKey().name().equals("request-total") && e.getKey().group().equals("producer-metrics")) {
                        return Math.round((Double) e.getValue().metricValue());
                    }
                }
                return -1;
            }

            @Override
            public void close() {
                producer.close();
            }
        };
    }

    private RunResult runInJvm(String bench, int round, String comparison, String side, Target target, String topic,
                               Workload w) {
        if (w.records() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("at most " + (Integer.MAX_VALUE - 8) + " records per run");
        }
        byte[][] value = values(w);
        String what = target.name() + " " + w.key();
        try (Client client = client(target, w)) {
            if (w.warmup() > 0) {
                Acks warm = new Acks((int) w.warmup());
                send(client, topic, w.withRate(0, w.warmup()), value, warm);
                awaitAll(warm, (int) w.warmup(), what + " warm-up");
            }
            long logBefore = stableLogEnd(target, topic);
            long requestsBefore = client.requests();
            FsyncCounter fsyncCounter = FsyncCounter.start(target.pids(), workDir);
            double serverCpu0 = target.cpuSeconds();
            double clientCpu0 = Proc.cpuSeconds(ProcessHandle.current().pid());
            int n = (int) w.records();
            Acks acks = new Acks(n);
            ScheduledExecutorService progress = progress(what, acks, n);
            long start;
            long end;
            try {
                start = send(client, topic, w, value, acks);
                client.flush();
                awaitAll(acks, n, what);
                end = System.nanoTime();
            } finally {
                progress.shutdownNow();
            }
            double serverCpu = target.cpuSeconds() - serverCpu0;
            double clientCpu = Proc.cpuSeconds(ProcessHandle.current().pid()) - clientCpu0;
            long fsyncs = fsyncCounter == null ? -1 : fsyncCounter.stop();
            long requests = client.requests() - requestsBefore;
            double load = Proc.load1();
            long logged = settledLogEnd(target, topic, logBefore + n) - logBefore;
            double[] lat = percentiles(acks.t);
            if (acks.failed.get() > 0) {
                out.line("!!! %s: %d records failed, first error: %s", what, acks.failed.get(),
                    acks.firstError.get());
            }
            return new RunResult(bench, round, comparison, side, target.name(), w, (end - start) / 1e9, lat[0],
                lat[1], lat[2], lat[3], serverCpu, clientCpu, requests, fsyncs, logged, acks.failed.get(), load);
        }
    }

    /** Sends every record of {@code w}; returns the start time (the first scheduled time in fixed-rate mode). */
    /**
     * The values a run sends, record i sending {@code values[i % values.length]}: one random (incompressible) value,
     * or 4,096 distinct text-like values (JSON-ish events with varying ids, users, paths and words) of exactly
     * {@code w.size()} bytes, for compression runs.
     */
    static byte[][] values(Workload w) {
        Random random = new Random(42);
        if (!w.text()) {
            byte[] v = new byte[w.size()];
            random.nextBytes(v);
            return new byte[][] {v};
        }
        String[] words = {"alpha", "page_view", "click", "checkout", "search", "catalog", "item", "user", "session",
            "mobile", "desktop", "en-US", "de-DE", "referrer", "campaign", "price", "currency", "EUR", "USD"};
        byte[][] values = new byte[4096][];
        for (int i = 0; i < values.length; i++) {
            StringBuilder sb = new StringBuilder();
            sb.append("{\"id\":").append(1_000_000 + random.nextInt(9_000_000)).append(",\"user\":\"u")
                .append(random.nextInt(50_000)).append("\",\"event\":\"").append(words[random.nextInt(5) + 1])
                .append("\",\"path\":\"/").append(words[random.nextInt(words.length)]).append('/')
                .append(random.nextInt(1000)).append("\",\"ts\":").append(1_700_000_000_000L + random.nextInt(1 << 30));
            while (sb.length() < w.size()) {
                sb.append(",\"").append(words[random.nextInt(words.length)]).append("\":\"")
                    .append(words[random.nextInt(words.length)]).append(random.nextInt(100)).append('"');
            }
            sb.setLength(w.size());
            values[i] = sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
        return values;
    }

    private long send(Client client, String topic, Workload w, byte[][] values, Acks acks) {
        int n = (int) w.records();
        int partitions = w.partitions();
        if (w.text() && w.client().kcat()) {
            throw new IllegalArgumentException("compression comparisons run the in-JVM producers only");
        }
        boolean roundRobin = partitioner.equals("roundrobin");
        long start = System.nanoTime();
        if (!w.fixedRate()) {
            for (int i = 0; i < n; i++) {
                acks.t[i] = System.nanoTime();
                client.send(topic, roundRobin ? i % partitions : -1, values[i % values.length], i, acks);
            }
            return start;
        }
        double interval = 1e9 / w.rate();
        for (int i = 0; i < n; i++) {
            long scheduled = start + (long) (i * interval);
            long now = System.nanoTime();
            if (now < scheduled) {
                LockSupport.parkNanos(scheduled - now); // never spin: the server needs the other core
            }
            acks.t[i] = scheduled;
            client.send(topic, roundRobin ? i % partitions : -1, values[i % values.length], i, acks);
        }
        return start;
    }

    private static void awaitAll(Acks acks, int n, String what) {
        long deadline = System.nanoTime() + ACK_WAIT_NANOS;
        while (acks.done.get() < n) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(what + ": only " + acks.done.get() + " of " + n
                    + " records completed after flush() and 5 minutes");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private ScheduledExecutorService progress(String what, Acks acks, long n) {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-progress");
            t.setDaemon(true);
            return t;
        });
        long[] last = {0, System.nanoTime()};
        s.scheduleAtFixedRate(() -> {
            long done = acks.done.get();
            long now = System.nanoTime();
            out.progress(String.format(Locale.ROOT, "%s: %,d / %,d done (%.0f%%), %,.0f rec/s over the last %.1f s",
                what, done, n, 100.0 * done / n, (done - last[0]) / ((now - last[1]) / 1e9), (now - last[1]) / 1e9));
            last[0] = done;
            last[1] = now;
        }, 2, 2, TimeUnit.SECONDS);
        return s;
    }

    /** p50, p99, p99.9, max of the latencies in ns (negative = failed, skipped), in ms. */
    static double[] percentiles(long[] nanos) {
        long[] ok = Arrays.stream(nanos).filter(x -> x >= 0).sorted().toArray();
        if (ok.length == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        }
        return new double[] {at(ok, 0.50), at(ok, 0.99), at(ok, 0.999), ok[ok.length - 1] / 1e6};
    }

    private static double at(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    /**
     * The topic's log end before a measured part, once it stopped moving: the warm-up's records are all acknowledged,
     * but a server may report them in the high watermark a moment later (idemlog moves it after its own segment's
     * group commit, in cluster mode too), and a start read too early would count them in the run. Polls every
     * 250 ms until three reads agree, at most 10 s; then returns the last read.
     */
    static long stableLogEnd(Target target, String topic) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long last = target.logEnd(topic);
        int same = 1;
        while (same < 3 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250)); // polling the offsets, bounded above
            long now = target.logEnd(topic);
            same = now == last ? same + 1 : 1;
            last = now;
        }
        return last;
    }

    /**
     * The topic's log end once it stops moving (acks=1 may be answered before the high watermark moves on
     * idemlog): waits up to 10 s for {@code expected}, then returns what it sees.
     */
    static long settledLogEnd(Target target, String topic, long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long end = target.logEnd(topic);
        while (end < expected && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            end = target.logEnd(topic);
        }
        return end;
    }

    // ------------------------------------------------------------------------------------------------------
    // kcat

    static String kcatPath() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "kcat");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private RunResult runKcat(String bench, int round, String comparison, String side, Target target, String topic,
                              Workload w) {
        if (w.fixedRate()) {
            throw new IllegalArgumentException("kcat has no fixed-rate mode");
        }
        String kcat = kcatPath();
        if (kcat == null) {
            throw new IllegalStateException("kcat not found on the PATH (apt-get install kcat)");
        }
        String what = target.name() + " " + w.key();
        if (w.warmup() > 0) {
            kcat(kcat, target, topic, w, input(w.warmup(), w.size()), what + " warm-up");
        }
        long logBefore = stableLogEnd(target, topic);
        Path input = input(w.records(), w.size());
        FsyncCounter fsyncCounter = FsyncCounter.start(target.pids(), workDir);
        double serverCpu0 = target.cpuSeconds();
        double kcatCpu0 = Proc.reapedChildrenCpuSeconds();
        long start = System.nanoTime();
        kcat(kcat, target, topic, w, input, what);
        long end = System.nanoTime();
        double serverCpu = target.cpuSeconds() - serverCpu0;
        double kcatCpu = Proc.reapedChildrenCpuSeconds() - kcatCpu0;
        long fsyncs = fsyncCounter == null ? -1 : fsyncCounter.stop();
        double load = Proc.load1();
        long logged = settledLogEnd(target, topic, logBefore + w.records()) - logBefore;
        return new RunResult(bench, round, comparison, side, target.name(), w, (end - start) / 1e9, Double.NaN,
            Double.NaN, Double.NaN, Double.NaN, serverCpu, kcatCpu, -1, fsyncs, logged, 0, load);
    }

    private void kcat(String kcat, Target target, String topic, Workload w, Path input, String what) {
        List<String> cmd = new ArrayList<>(List.of(kcat, "-P", "-b", target.bootstrap(), "-t", topic,
            "-X", "enable.idempotence=" + w.idempotence(), "-X", "acks=" + w.acks(),
            "-X", "linger.ms=" + w.lingerMs()));
        if (w.client() == ClientKind.KCAT) {
            cmd.addAll(List.of("-X", "batch.size=" + w.batchSize()));
        }
        cmd.addAll(List.of("-l", input.toString()));
        Path log = workDir.resolve("kcat.log");
        try {
            Files.writeString(log, "=== " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "bench-progress");
                t.setDaemon(true);
                return t;
            });
            progress.scheduleAtFixedRate(() -> out.progress(what + ": kcat running"), 2, 2, TimeUnit.SECONDS);
            try {
                if (!p.waitFor(10, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    p.waitFor();
                    throw new IllegalStateException(what + ": kcat still running after 10 minutes; see " + log);
                }
            } finally {
                progress.shutdownNow();
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(what + ": kcat exited with " + p.exitValue() + "; see " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A file of {@code n} lines of exactly {@code size} bytes (the newline is the delimiter, not in the value). */
    private Path input(long n, int size) {
        Path file = workDir.resolve("kcat-" + n + "x" + size + ".txt");
        if (Files.exists(file)) {
            return file;
        }
        try (BufferedWriter wr = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            String pad = "x".repeat(Math.max(0, size));
            for (long i = 0; i < n; i++) {
                String num = Long.toString(i);
                if (num.length() >= size) {
                    wr.write(num, 0, size);
                } else {
                    wr.write(num);
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
