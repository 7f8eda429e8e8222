package io.idemlog.bench.consumer;

import io.idemlog.consumer.IdempotentConsumer;
import io.idemlog.consumer.JdbcProcessedIdStore;
import io.idemlog.consumer.KeyExtractor;
import io.idemlog.consumer.MemoryProcessedIdStore;
import io.idemlog.consumer.ProcessedIdStore;
import io.idemlog.testkit.ChildJvm;
import io.idemlog.testkit.EmbeddedPostgres;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.SimpleConnectionPool;
import io.idemlog.testkit.TcpProxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The consumer duplicate-injection benchmark, one command: {@code jmh/bench.sh consumer [--option value]...}.
 *
 * <p><b>Faults</b>, per target (Apache Kafka, idemlog) and mode ({@code tx}: the idempotent consumer's transactional
 * mode; {@code control}: the same effect without the wrapper): {@code --records} records, every {@code --dup-every}th
 * one re-sent by the producer (same de-duplication header, a later offset), are consumed by {@code --members}
 * member processes ({@link ConsumerMember}) into PostgreSQL (an {@code orders} row and a {@code balance} increment per
 * record, not idempotent) through a {@link TcpProxy}, while a random member is SIGKILLed (and restarted) every
 * {@code --kill-interval-ms} until at least {@code --kills} kills, and the proxy cuts every database connection
 * {@code --cuts} times (then refuses connections for {@code --cut-down-ms}). The members form one consumer group, on
 * Kafka and on idemlog alike (a static assignment remains for a server without consumer groups).
 * Result: rows, distinct orders and the balance against what was produced; exactly once means rows == distinct ==
 * unique records and the balance exact. Exit code 3 if the transactional mode was not exact, 4 if a control showed no
 * duplicate effect (its faults proved nothing).
 *
 * <p><b>Throughput</b>, per target and store, one in-process consumer (no faults) over {@code --throughput-records}
 * unique records: memory store (effect in H2), H2 transactional, PostgreSQL insert-first, PostgreSQL transactional,
 * and PostgreSQL without the wrapper as the baseline. Records/s, a CSV and a plot under {@code --out}.
 */
public final class ConsumerBench {
    static final String HEADER = "dedup-id";
    private static final String USAGE = """
        usage: jmh/bench.sh consumer [--option value]...
          --targets kafka,idemlog --records 1000000 --dup-every 100 --partitions 6 --members 3
          --modes tx,control --kills 10 --kill-interval-ms 8000 --cuts 2 --cut-down-ms 1500
          --pg-synchronous-commit off (faults runs; the throughput runs use PostgreSQL's default, on)
          --batch-size 1 (records per database transaction of the tx members, and per effect transaction of the
            control members; the faults runs)
          --throughput-records 100000 (0 = skip) --stores memory,h2-tx,pg-insert-first,pg-tx,pg-plain
          --batch-sizes 1 (the throughput runs of h2-tx and pg-tx, one run per size: store names h2-tx-bN)
          --timeout-s 3600 (per faults run) --seed 1 --out docs/benchmarks --tag consumer-DATE --work DIR
        """;

    /** The members' logging: warnings, and the consumer's own lines (assignments, store failures). */
    private static final String MEMBER_LOGBACK = """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n</pattern></encoder>
          </appender>
          <logger name="io.idemlog.consumer" level="INFO"/>
          <root level="WARN"><appender-ref ref="OUT"/></root>
        </configuration>
        """;

    private final Map<String, String> opts = new LinkedHashMap<>();
    private PrintStream out;

    private ConsumerBench(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + args[i] + "\n" + USAGE);
            }
            String name = args[i].substring(2);
            String value = i + 1 < args.length && !args[i + 1].startsWith("--") ? args[++i] : "true";
            opts.put(name, value);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        System.exit(new ConsumerBench(args).run());
    }

    /** Runs the benchmark; returns the exit code. */
    public static int run(String... args) throws Exception {
        return new ConsumerBench(args).run();
    }

    private String opt(String name, String def) {
        return opts.getOrDefault(name, def);
    }

    private int integer(String name, int def) {
        return Integer.parseInt(opt(name, String.valueOf(def)));
    }

    private List<String> list(String name, String def) {
        String v = opt(name, def);
        return v.isEmpty() || v.equals("none") ? List.of() : Arrays.asList(v.split(","));
    }

    /** One faults run's outcome. */
    record FaultResult(String target, String mode, long records, long unique, long rows, long distinct,
                       long balance, long expectedBalance, int kills, int cuts, double seconds) {
        long duplicateEffects() {
            return rows - distinct;
        }

        boolean exact() {
            return rows == unique && distinct == unique && balance == expectedBalance;
        }
    }

    /** One throughput run's outcome. */
    record Throughput(String target, String store, long records, double seconds) {
        double perSecond() {
            return records / seconds;
        }
    }

    private int run() throws Exception {
        List<String> known = List.of("targets", "records", "dup-every", "partitions", "members", "modes", "kills",
            "kill-interval-ms", "cuts", "cut-down-ms", "pg-synchronous-commit", "throughput-records", "stores",
            "timeout-s", "seed", "out", "tag", "work", "batch-size", "batch-sizes");
        for (String k : opts.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k + "\n" + USAGE);
            }
        }
        List<String> targets = list("targets", "kafka,idemlog");
        int records = integer("records", 1_000_000);
        int dupEvery = integer("dup-every", 100);
        int partitions = integer("partitions", 6);
        int members = integer("members", 3);
        List<String> modes = list("modes", "tx,control");
        int throughputRecords = integer("throughput-records", 100_000);
        List<String> stores = list("stores", "memory,h2-tx,pg-insert-first,pg-tx,pg-plain");
        Path outDir = Path.of(opt("out", "docs/benchmarks"));
        String tag = opt("tag", "consumer-" + LocalDate.now(ZoneOffset.UTC));
        Path work = Path.of(opt("work", "/tmp/idemlog-consumer-bench-" + ProcessHandle.current().pid()));
        Files.createDirectories(outDir);
        Files.createDirectories(work);
        List<FaultResult> faults = new ArrayList<>();
        List<Throughput> speeds = new ArrayList<>();
        try (PrintStream file = new PrintStream(Files.newOutputStream(outDir.resolve(tag + ".txt")), true,
            StandardCharsets.UTF_8)) {
            out = new Tee(System.out, file);
            out.println("consumer duplicate-injection benchmark " + String.join(" ", opts.entrySet().stream()
                .map(e -> "--" + e.getKey() + " " + e.getValue()).toList()));
            out.printf("machine: %d cores, load average %s (shared machine: other work may run)%n",
                Runtime.getRuntime().availableProcessors(), loadAverage());
            for (String target : targets) {
                try (Broker broker = Broker.start(target, work.resolve(target), partitions)) {
                    out.println("== target " + target + ": " + broker.describe());
                    String topic = "orders";
                    Produced produced = produce(broker.bootstrap(), topic, records, dupEvery, partitions);
                    out.printf("produced %d records (%d unique orders, %d re-sent by the producer) in %.1f s%n",
                        produced.records, produced.unique, produced.records - produced.unique, produced.seconds);
                    for (String mode : modes) {
                        faults.add(faultRun(target, broker, topic, mode, produced, partitions, members,
                            work.resolve(target + "-" + mode)));
                    }
                    if (throughputRecords > 0) {
                        String tt = "throughput";
                        Produced tp = produce(broker.bootstrap(), tt, throughputRecords, 0, partitions);
                        List<String> sizes = list("batch-sizes", "1");
                        for (String store : stores) {
                            if (store.endsWith("-tx") && !sizes.equals(List.of("1"))) {
                                for (String size : sizes) {
                                    speeds.add(throughput(target, broker, tt, store + "-b" + size, tp, partitions,
                                        work));
                                }
                            } else {
                                speeds.add(throughput(target, broker, tt, store, tp, partitions, work));
                            }
                        }
                    }
                }
            }
            out.println();
            out.println("== summary");
            for (FaultResult f : faults) {
                out.printf("faults %-8s %-8s records %d unique %d rows %d distinct %d duplicate-effects %d "
                        + "balance %s kills %d cuts %d %.0f s (%.0f records/s)%n", f.target, f.mode, f.records,
                    f.unique, f.rows, f.distinct, f.duplicateEffects(), f.balance == f.expectedBalance ? "exact"
                        : f.balance + " (expected " + f.expectedBalance + ")", f.kills, f.cuts, f.seconds,
                    f.records / f.seconds);
            }
            for (Throughput t : speeds) {
                out.printf("throughput %-8s %-16s %d records %.1f s %.0f records/s%n", t.target, t.store,
                    t.records, t.seconds, t.perSecond());
            }
            writeCsv(outDir, tag, faults, speeds);
            plot(outDir, tag, faults, speeds);
            int code = 0;
            for (FaultResult f : faults) {
                if (f.mode.equals("tx") && !f.exact()) {
                    out.println("!!! " + f.target + " transactional mode NOT exactly once");
                    code = 3;
                }
                if (f.mode.equals("control") && f.duplicateEffects() == 0 && code == 0) {
                    out.println("!!! " + f.target + " control showed no duplicate effect: the faults proved nothing");
                    code = 4;
                }
            }
            out.println(code == 0 ? "result: OK" : "result: FAILED (" + code + ")");
            return code;
        } finally {
            deleteTree(work);
        }
    }

    /** What was produced: counts and the expected balance. */
    record Produced(int records, int unique, long expectedBalance, double seconds) {
    }

    private Produced produce(String bootstrap, String topic, int records, int dupEvery, int partitions)
        throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        long t0 = System.nanoTime();
        int unique = 0;
        long balance = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
            new StringSerializer())) {
            int n = 0;
            String lastId = null;
            String lastValue = null;
            while (n < records) {
                String id;
                String value;
                if (dupEvery > 0 && lastId != null && (n + 1) % dupEvery == 0) {
                    id = lastId; // the producer re-sends the previous order: same key, header and value
                    value = lastValue;
                } else {
                    id = topic + "-" + unique;
                    long amount = unique % 1000 + 1;
                    value = String.valueOf(amount);
                    balance += amount;
                    unique++;
                }
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, id, value);
                r.headers().add(HEADER, id.getBytes(StandardCharsets.UTF_8));
                producer.send(r, (m, e) -> {
                    if (e != null) {
                        throw new IllegalStateException("produce failed", e);
                    }
                });
                lastId = id;
                lastValue = value;
                n++;
            }
            producer.flush();
        }
        return new Produced(records, unique, balance, (System.nanoTime() - t0) / 1e9);
    }

    private FaultResult faultRun(String target, Broker broker, String topic, String mode, Produced produced,
                                 int partitions, int members, Path dir) throws Exception {
        Files.createDirectories(dir);
        int kills = integer("kills", 10);
        int cuts = integer("cuts", 2);
        long killInterval = integer("kill-interval-ms", 8000);
        long cutDown = integer("cut-down-ms", 1500);
        Random random = new Random(integer("seed", 1));
        boolean group = broker.hasGroups();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setting("synchronous_commit",
                opt("pg-synchronous-commit", "off")).setting("max_connections", "60").start();
             TcpProxy proxy = TcpProxy.start(Ports.loopback(pg.port()))) {
            String direct = pg.createDatabase("bench");
            String viaProxy = EmbeddedPostgres.jdbcUrl(proxy.port(), "bench") + "?connectTimeout=3";
            try (SimpleConnectionPool db = SimpleConnectionPool.of(direct, "postgres", 2)) {
                createSchema(db);
                JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build().close(); // the library's tables
                out.printf("-- faults %s/%s: %d members (%s), PostgreSQL %s through %s, synchronous_commit=%s,"
                        + " %s record(s) per transaction%n", target, mode, members, group ? "one consumer group"
                        : "static assignment: no groups on " + target, pg, proxy, opt("pg-synchronous-commit", "off"),
                    opt("batch-size", "1"));
                // a claimed partition without a position has next_offset -1 (the batched mode's claim)
                String positions = mode.equals("tx")
                    ? "SELECT COALESCE(SUM(GREATEST(next_offset, 0)), 0) FROM idemlog_positions"
                    : "SELECT COALESCE(SUM(next_offset), 0) FROM control_positions";
                Process[] procs = new Process[members];
                for (int m = 0; m < members; m++) {
                    procs[m] = startMember(mode, broker, topic, partitions, m, members, group, viaProxy, dir);
                }
                long t0 = System.nanoTime();
                long deadline = t0 + TimeUnit.SECONDS.toNanos(integer("timeout-s", 3600));
                int killed = 0;
                int cut = 0;
                long nextKill = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(killInterval);
                long lastProgress = -1;
                long done;
                while (true) {
                    done = queryLong(db, positions);
                    boolean allDone = done >= produced.records();
                    if (allDone && killed >= kills) {
                        break;
                    }
                    if (allDone && killed < kills) {
                        out.printf("   all records processed after %d kills (fewer than %d: lower "
                            + "--kill-interval-ms)%n", killed, kills);
                        break;
                    }
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("faults run " + target + "/" + mode + " did not finish: "
                            + done + " of " + produced.records() + " records");
                    }
                    for (int m = 0; m < members; m++) {
                        if (!procs[m].isAlive()) { // a member that gave up (control: any error) starts again
                            procs[m] = startMember(mode, broker, topic, partitions, m, members, group, viaProxy, dir);
                        }
                    }
                    long now = System.nanoTime();
                    if (now - nextKill >= 0 && killed < kills && done > lastProgress) {
                        int victim = random.nextInt(members);
                        ChildJvm.kill(procs[victim], Duration.ofSeconds(30));
                        killed++;
                        out.printf("   %5.1f s: SIGKILL member %d (kill %d), %d of %d records done%n",
                            (now - t0) / 1e9, victim, killed, done, produced.records());
                        procs[victim] = startMember(mode, broker, topic, partitions, victim, members, group,
                            viaProxy, dir);
                        lastProgress = done;
                        // the cuts fall between kills, spread over the run
                        if (cut < cuts && killed >= (cut + 1) * kills / (cuts + 1)) {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(killInterval / 2));
                            proxy.down();
                            cut++;
                            out.printf("   %5.1f s: database connections cut and refused for %d ms (cut %d)%n",
                                (System.nanoTime() - t0) / 1e9, cutDown, cut);
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(cutDown));
                            proxy.up();
                        }
                        nextKill = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(killInterval);
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // the orchestrator's pace, not a sync
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                for (Process p : procs) {
                    ChildJvm.kill(p, Duration.ofSeconds(30));
                }
                FaultResult r = new FaultResult(target, mode, produced.records(), produced.unique(),
                    queryLong(db, "SELECT COUNT(*) FROM orders"), queryLong(db, "SELECT COUNT(DISTINCT order_id)"
                    + " FROM orders"), queryLong(db, "SELECT total FROM balance WHERE id = 1"),
                    produced.expectedBalance(), killed, cut, seconds);
                out.printf("   result: rows %d, distinct %d (unique produced %d), duplicate effects %d, balance %d "
                        + "(expected %d): %s%n", r.rows, r.distinct, r.unique, r.duplicateEffects(), r.balance,
                    r.expectedBalance, r.exact() ? "EXACTLY ONCE" : "NOT exactly once");
                return r;
            }
        }
    }

    private Process startMember(String mode, Broker broker, String topic, int partitions, int member,
                                       int members, boolean group, String url, Path dir) throws IOException {
        String batchSize = opt("batch-size", "1");
        List<String> args = List.of(mode, broker.bootstrap(), topic, String.valueOf(partitions),
            String.valueOf(member), String.valueOf(members), group ? "group" : "static", url, batchSize);
        Path logback = dir.resolve("member-logback.xml");
        if (!Files.exists(logback)) {
            Files.writeString(logback, MEMBER_LOGBACK);
        }
        List<String> jvm = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dlogback.configurationFile=" + logback);
        return ChildJvm.launch(ChildJvm.javaCommand(jvm, System.getProperty("java.class.path"),
            ConsumerMember.class.getName(), args), dir.resolve("member-" + member + ".log"), "member " + member);
    }

    private static void createSchema(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS orders (order_id VARCHAR(100) NOT NULL, amount BIGINT NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS balance (id INT PRIMARY KEY, total BIGINT NOT NULL)");
            s.execute("DELETE FROM orders");
            s.execute("DELETE FROM balance");
            s.execute("INSERT INTO balance VALUES (1, 0)");
            s.execute("CREATE TABLE IF NOT EXISTS control_positions (kafka_partition INT PRIMARY KEY,"
                + " next_offset BIGINT NOT NULL)");
        }
    }

    private Throughput throughput(String target, Broker broker, String topic, String store, Produced produced,
                                  int partitions, Path work) throws Exception {
        int batch = 1;
        int b = store.lastIndexOf("-b");
        if (b > 0) {
            batch = Integer.parseInt(store.substring(b + 2));
        }
        String kind = b > 0 ? store.substring(0, b) : store;
        boolean postgres = store.startsWith("pg");
        EmbeddedPostgres pg = postgres ? EmbeddedPostgres.builder().start() : null;
        Path h2 = work.resolve("h2-" + target + "-" + store);
        String url = postgres ? pg.createDatabase("bench") : "jdbc:h2:file:" + h2 + ";LOCK_TIMEOUT=20000";
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        try (SimpleConnectionPool db = SimpleConnectionPool.of(url, postgres ? "postgres" : "sa", 4)) {
            createSchema(db);
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
            KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer());
            long t0;
            long applied;
            if (store.equals("pg-plain")) {
                consumer.assign(all);
                t0 = System.nanoTime();
                applied = 0;
                while (applied < produced.records()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        try (Connection c = db.getConnection()) {
                            c.setAutoCommit(false);
                            ConsumerMember.apply(c, r);
                            c.commit();
                        }
                        applied++;
                    }
                }
                consumer.close();
            } else {
                ProcessedIdStore s = store.equals("memory") ? MemoryProcessedIdStore.builder().maxIds(1_000_000)
                    .build() : JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build();
                IdempotentConsumer.Builder<String, String> c = kind.endsWith("-tx")
                    ? IdempotentConsumer.builder(consumer, (JdbcProcessedIdStore) s,
                        (ConsumerRecord<String, String> r, Connection tx) -> ConsumerMember.apply(tx, r))
                    : IdempotentConsumer.<String, String>builder(consumer, s, r -> {
                        try (Connection conn = db.getConnection()) {
                            conn.setAutoCommit(false);
                            ConsumerMember.apply(conn, r);
                            conn.commit();
                        }
                    });
                IdempotentConsumer<String, String> ic = c.keyExtractor(KeyExtractor.header(HEADER))
                    .scope("bench").meterRegistry(new SimpleMeterRegistry()).maxRecordsPerTransaction(batch).build();
                ic.assign(all);
                t0 = System.nanoTime();
                while (ic.stats().applied() < produced.records()) {
                    ic.pollOnce(Duration.ofMillis(200));
                }
                applied = ic.stats().applied();
                ic.close();
                s.close();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long rows = queryLong(db, "SELECT COUNT(*) FROM orders");
            if (rows != produced.records()) {
                throw new IllegalStateException(store + ": " + rows + " effects for " + produced.records());
            }
            Throughput t = new Throughput(target, store, applied, seconds);
            out.printf("-- throughput %s/%s: %d records in %.1f s = %.0f records/s%s%n", target, store, applied,
                seconds, t.perSecond(), postgres ? " (PostgreSQL, synchronous_commit=on)"
                    : " (H2 file database" + (store.equals("memory") ? " for the effect" : "") + ")");
            return t;
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static long queryLong(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void writeCsv(Path dir, String tag, List<FaultResult> faults, List<Throughput> speeds)
        throws IOException {
        StringBuilder f = new StringBuilder("target,mode,records,unique,rows,distinct,duplicate_effects,balance,"
            + "expected_balance,exact,kills,cuts,seconds\n");
        for (FaultResult r : faults) {
            f.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%d,%d,%d,%d,%d,%s,%d,%d,%.1f%n", r.target, r.mode,
                r.records, r.unique, r.rows, r.distinct, r.duplicateEffects(), r.balance, r.expectedBalance,
                r.exact(), r.kills, r.cuts, r.seconds));
        }
        Files.writeString(dir.resolve(tag + "-faults.csv"), f);
        StringBuilder t = new StringBuilder("target,store,records,seconds,records_per_second\n");
        for (Throughput r : speeds) {
            t.append(String.format(Locale.ROOT, "%s,%s,%d,%.2f,%.0f%n", r.target, r.store, r.records, r.seconds,
                r.perSecond()));
        }
        Files.writeString(dir.resolve(tag + "-throughput.csv"), t);
    }

    private void plot(Path dir, String tag, List<FaultResult> faults, List<Throughput> speeds) throws IOException {
        if (!speeds.isEmpty()) {
            CategoryChart c = chart("Idempotent consumer throughput per store (one consumer, no faults)", "store",
                "records/s");
            for (String target : speeds.stream().map(Throughput::target).distinct().toList()) {
                List<Throughput> mine = speeds.stream().filter(s -> s.target.equals(target)).toList();
                c.addSeries(target, mine.stream().map(Throughput::store).toList(),
                    mine.stream().map(Throughput::perSecond).toList());
            }
            BitmapEncoder.saveBitmap(c, dir.resolve(tag + "-throughput.png").toString(),
                BitmapEncoder.BitmapFormat.PNG);
        }
        if (!faults.isEmpty()) {
            CategoryChart c = chart("Duplicate effects under member SIGKILLs and database cuts", "target / mode",
                "effects applied more than once");
            c.addSeries("duplicate effects", faults.stream().map(f -> f.target + " " + f.mode).toList(),
                faults.stream().map(f -> (double) f.duplicateEffects()).toList());
            BitmapEncoder.saveBitmap(c, dir.resolve(tag + "-faults.png").toString(), BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static CategoryChart chart(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(1000).height(500).title(title).xAxisTitle(x)
            .yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setYAxisMin(0.0);
        return c;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    /** The broker under test. */
    private interface Broker extends AutoCloseable {
        String bootstrap();

        boolean hasGroups();

        String describe();

        @Override
        void close();

        static Broker start(String target, Path dir, int partitions) throws IOException {
            Files.createDirectories(dir);
            if (target.equals("kafka")) {
                KafkaBroker k = KafkaBroker.builder(dir).numPartitions(partitions).logLevel("WARN")
                    .property("group.min.session.timeout.ms", "6000").start();
                k.createTopic("orders");
                k.createTopic("throughput");
                return new Broker() {
                    public String bootstrap() {
                        return k.bootstrap();
                    }

                    public boolean hasGroups() {
                        return true;
                    }

                    public String describe() {
                        return k.toString();
                    }

                    public void close() {
                        k.close();
                    }
                };
            }
            if (target.equals("idemlog")) {
                ServerProcess s = ServerProcess.builder(dir.resolve("data"))
                    .override("num.partitions", String.valueOf(partitions)).start();
                return new Broker() {
                    public String bootstrap() {
                        return s.bootstrap();
                    }

                    public boolean hasGroups() {
                        return true; // the classic group coordinator (issue 9)
                    }

                    public String describe() {
                        return s.toString();
                    }

                    public void close() {
                        s.close();
                    }
                };
            }
            throw new IllegalArgumentException("unknown target " + target + " (kafka, idemlog)");
        }
    }

    /** Prints to two streams. */
    private static final class Tee extends PrintStream {
        private final PrintStream second;

        Tee(PrintStream first, PrintStream second) {
            super(first, true, StandardCharsets.UTF_8);
            this.second = second;
        }

        @Override
        public void write(byte[] buf, int off, int len) {
            super.write(buf, off, len);
            second.write(buf, off, len);
        }

        @Override
        public void flush() {
            super.flush();
            second.flush();
        }
    }
}
