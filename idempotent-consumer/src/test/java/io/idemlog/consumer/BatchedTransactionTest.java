package io.idemlog.consumer;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.EmbeddedPostgres;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.SimpleConnectionPool;
import io.idemlog.testkit.TcpProxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

import static io.idemlog.consumer.IdempotentConsumerTest.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batched transactional mode ({@code maxRecordsPerTransaction > 1}) on H2 and PostgreSQL against a real Kafka
 * broker: many records per database transaction, and every failure the one-record mode survives, inside a batch: a
 * repeat inside one batch, a crash mid-batch, a poison record mid-batch (on PostgreSQL a unique-key violation that
 * aborts the whole transaction), the connection cut mid-batch, the commit failing with the outcome committed or not,
 * and a rebalance mid-batch (the new owner's claim waits for the old owner's batch, whose next batch is fenced).
 * Effects go to {@link Orders} (not idempotent): every duplicate effect shows.
 */
class BatchedTransactionTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AtomicBoolean stop = new AtomicBoolean();

    @AfterEach
    void closeAll() throws Exception {
        stop.set(true);
        threads.shutdown();
        assertTrue(threads.awaitTermination(60, TimeUnit.SECONDS), "consumer threads did not stop");
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private SimpleConnectionPool database(boolean postgres) {
        SimpleConnectionPool pool = closing(postgres ? Databases.newPostgresDatabase("batch", 8)
            : Databases.newH2Database("batch", 8));
        Orders.createSchema(pool);
        return pool;
    }

    private static String topic(KafkaBroker kafka) {
        String t = "batch-" + System.nanoTime();
        kafka.createTopic(t);
        return t;
    }

    private IdempotentConsumer.Builder<String, String> builder(KafkaBroker kafka, String group,
                                                               JdbcProcessedIdStore store,
                                                               TransactionalHandler<String, String> handler,
                                                               SimpleMeterRegistry registry, int batch) {
        KafkaConsumer<String, String> kc = Brokers.consumer(kafka.bootstrap(), group, Map.of());
        return IdempotentConsumer.builder(kc, store, handler).keyExtractor(KeyExtractor.header("dedup-id"))
            .meterRegistry(registry).maxRecordsPerTransaction(batch)
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
            .storeBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
    }

    private static long commits(SimpleMeterRegistry registry) {
        return registry.find("idemlog.consumer.store.latency").tag("op", "commit").timer().count();
    }

    private static long done(IdempotentConsumer<?, ?> c) {
        ConsumerStats s = c.stats();
        return s.applied() + s.duplicates() + s.deadLettered();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRepeatInsideOneBatchIsADuplicate(boolean postgres) {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(postgres);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build());
        String topic = topic(kafka);
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (String id : List.of("o-1", "o-2", "o-1", "o-3", "o-2")) {
                Brokers.send(p, topic, 0, id, id.substring(2));
            }
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        IdempotentConsumer<String, String> c = closing(builder(kafka, "g-" + topic, store, Orders::apply, registry,
            100).build());
        c.assign(List.of(new TopicPartition(topic, 0)));
        pollUntil(c, "5 records", () -> done(c) == 5);
        assertEquals(1, commits(registry), "all five in one transaction");
        assertEquals(3, c.stats().applied());
        assertEquals(2, c.stats().duplicates(), "the repeats of o-1 and o-2, in the same transaction as them");
        assertEquals(3, Orders.rows(db));
        assertEquals(6, Orders.balance(db));
        assertEquals(Map.of(new TopicPartition(topic, 0), 5L), store.loadPositions(c.scope(),
            List.of(new TopicPartition(topic, 0))));
    }

    /** A crash in the middle of a batch: nothing of it committed; the next consumer resumes at the stored positions. */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aCrashMidBatchLeavesNothingHalfDoneAndARestartAppliesEachRecordOnce(boolean postgres) {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(postgres);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build());
        String topic = topic(kafka);
        long balance = 0;
        int unique = 0;
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 120; i++) {
                int order = i % 4 == 3 ? i - 1 : i; // every 4th record repeats the one before (the producer re-sent it)
                Brokers.send(p, topic, order % Brokers.PARTITIONS, "o-" + order, String.valueOf(order + 1));
                if (order == i) {
                    balance += order + 1;
                    unique++;
                }
            }
        }
        String group = "g-" + topic;
        AtomicInteger handled = new AtomicInteger();
        SimpleMeterRegistry r1 = new SimpleMeterRegistry();
        IdempotentConsumer<String, String> first = builder(kafka, group, store, (r, tx) -> {
            Orders.apply(r, tx);
            if (handled.incrementAndGet() == 37) {
                throw new Crash(); // the process dies here, in the middle of a batch: nothing catches it
            }
        }, r1, 10).build();
        first.subscribe(List.of(topic));
        assertThrows(Crash.class, () -> pollUntil(first, "the crash", () -> false));
        long committedBefore = first.stats().applied();
        assertTrue(committedBefore > 0 && committedBefore < 37, "batches before the crash committed: "
            + first.stats());
        assertEquals(committedBefore, Orders.rows(db), "the crashed batch left nothing behind");
        first.close();

        SimpleMeterRegistry r2 = new SimpleMeterRegistry();
        IdempotentConsumer<String, String> second = closing(builder(kafka, group, store, Orders::apply, r2, 10)
            .build());
        second.subscribe(List.of(topic));
        int expected = unique;
        pollUntil(second, "every order", () -> Orders.distinct(db) == expected);
        assertEquals(unique, Orders.rows(db), "each effect once");
        assertEquals(balance, Orders.balance(db));
        assertEquals(120, first.stats().applied() + first.stats().duplicates() + second.stats().applied()
            + second.stats().duplicates(), "nothing redelivered past the stored positions");
        assertTrue(commits(r1) + commits(r2) < 40, "batches, not a transaction per record: " + commits(r1) + " + "
            + commits(r2));
    }

    /** Thrown by a handler to stand for the process dying: an Error the consumer does not catch. */
    static final class Crash extends Error {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash");
        }
    }

    /**
     * A poison record in the middle of a batch: the batch rolls back and is applied again without it, its retries
     * fail too, and it is dead-lettered; the good records of the batch (its partition's before it, after it, and
     * another partition's) are each applied once. On PostgreSQL the poison record's failure is a unique-key violation
     * in the handler's own statement, which aborts the whole transaction.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aPoisonRecordMidBatchIsDeadLetteredAndTheGoodRecordsApplyOnce(boolean postgres) {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(postgres);
        Databases.execute(db, "CREATE TABLE guard (id INT PRIMARY KEY)", "INSERT INTO guard VALUES (1)");
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build());
        String topic = topic(kafka);
        long balance = 0;
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 12; i++) {
                Brokers.send(p, topic, 0, "o-" + i, String.valueOf(i + 1));
                balance += i == 5 ? 0 : i + 1;
            }
            for (int i = 100; i < 106; i++) {
                Brokers.send(p, topic, 1, "o-" + i, String.valueOf(i + 1));
                balance += i + 1;
            }
        }
        List<String> deadLetters = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger calls = new AtomicInteger();
        IdempotentConsumer<String, String> c = closing(builder(kafka, "g-" + topic, store, (r, tx) -> {
            calls.incrementAndGet();
            Orders.apply(r, tx);
            if (r.key().equals("o-5")) {
                try (PreparedStatement ps = tx.prepareStatement("INSERT INTO guard VALUES (1)")) {
                    ps.executeUpdate(); // a duplicate key: PostgreSQL aborts the whole transaction
                }
            }
        }, new SimpleMeterRegistry(), 100).maxAttempts(2)
            .deadLetters((r, cause, attempts) -> deadLetters.add(r.key() + "/" + attempts)).build());
        c.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
        pollUntil(c, "18 records", () -> done(c) == 18);
        assertEquals(List.of("o-5/2"), deadLetters, "dead-lettered once, after its 2 attempts");
        assertEquals(17, Orders.rows(db), "each good record once, the poison record's effect rolled back");
        assertEquals(17, Orders.distinct(db));
        assertEquals(balance, Orders.balance(db));
        assertEquals(new ConsumerStats(17, 0, 2, 1, 0, 0), c.stats());
        assertTrue(calls.get() > 18, "the batch was rolled back and applied again: " + calls.get() + " calls");
        assertEquals(Map.of(new TopicPartition(topic, 0), 12L, new TopicPartition(topic, 1), 6L),
            store.loadPositions(c.scope(), List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1))));
    }

    /** Without a dead-letter target the consumer stops on the poison record, after committing the others. */
    @Test
    void aPoisonRecordWithoutATargetStopsItsPartitionAfterTheGoodRecordsCommitted() {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(false);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build());
        String topic = topic(kafka);
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 6; i++) {
                Brokers.send(p, topic, 0, "o-" + i, "1");
            }
            Brokers.send(p, topic, 1, "o-100", "1");
        }
        IdempotentConsumer<String, String> c = closing(builder(kafka, "g-" + topic, store, (r, tx) -> {
            if (r.key().equals("o-3")) {
                throw new IllegalStateException("bad record");
            }
            Orders.apply(r, tx);
        }, new SimpleMeterRegistry(), 100).maxAttempts(1).build());
        c.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
        PoisonRecordException e = assertThrows(PoisonRecordException.class,
            () -> pollUntil(c, "the poison record", () -> false));
        assertEquals(new TopicPartition(topic, 0), e.partition());
        assertEquals(3, e.offset());
        for (int i = 0; i < 6; i++) {
            assertEquals(i < 3 ? 1 : 0, Orders.rowsOf(db, "o-" + i), "o-0..o-2 committed before the stop, not o-" + i);
        }
        assertEquals(3L, store.loadPositions(c.scope(), List.of(new TopicPartition(topic, 0)))
            .get(new TopicPartition(topic, 0)));
    }

    /** The database connection cut in the middle of a batch: everything rolled back, retried, nothing counted. */
    @Test
    void aConnectionCutMidBatchIsRetriedWithoutLossOrDuplicate() {
        KafkaBroker kafka = Brokers.kafka();
        EmbeddedPostgres pg = Databases.postgres();
        TcpProxy proxy = closing(TcpProxy.start(Ports.loopback(pg.port())));
        String url = Databases.newPostgresDatabaseVia(proxy.port(), "batchcut");
        SimpleConnectionPool viaProxy = closing(SimpleConnectionPool.of(url, EmbeddedPostgres.SUPERUSER, 4));
        viaProxy.setLoginTimeout(3);
        SimpleConnectionPool direct = closing(SimpleConnectionPool.of(url.replace(":" + proxy.port() + "/",
            ":" + pg.port() + "/"), EmbeddedPostgres.SUPERUSER, 2));
        Orders.createSchema(direct);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(viaProxy).purgeInterval(Duration.ZERO)
            .build());
        String topic = topic(kafka);
        long balance = 0;
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 60; i++) {
                Brokers.send(p, topic, i % Brokers.PARTITIONS, "o-" + i, String.valueOf(i + 1));
                balance += i + 1;
            }
        }
        AtomicInteger handled = new AtomicInteger();
        IdempotentConsumer<String, String> c = closing(builder(kafka, "g-" + topic, store, (r, tx) -> {
            if (handled.incrementAndGet() == 25) {
                proxy.cutConnections(); // the network drops in the middle of the batch's transaction
            }
            Orders.apply(r, tx);
        }, new SimpleMeterRegistry(), 10).build());
        c.subscribe(List.of(topic));
        pollUntil(c, "all 60", () -> Orders.distinct(direct) == 60);
        assertEquals(60, Orders.rows(direct), "each effect once");
        assertEquals(balance, Orders.balance(direct));
        assertTrue(proxy.cuts() >= 1 && c.stats().storeFailures() >= 1, "the cut happened: " + c.stats());
        assertEquals(0, c.stats().handlerFailures(), "an infrastructure failure, not the record's");
        assertEquals(60, c.stats().applied());
    }

    /**
     * The commit of a batch fails as a connection failure (08006), once with the database having committed it (the
     * answer was lost) and once without: either way each effect once; when it had committed, the retry finds every
     * record of the batch a duplicate.
     */
    @ParameterizedTest(name = "postgres={0}, committed={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void aCommitThatFailsIsRetriedAndEachEffectAppliesOnce(boolean postgres, boolean committed) {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(postgres);
        FailingCommits failing = new FailingCommits(db);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(failing).purgeInterval(Duration.ZERO)
            .build());
        String topic = topic(kafka);
        long balance = 0;
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 40; i++) {
                Brokers.send(p, topic, 0, "o-" + i, String.valueOf(i + 1));
                balance += i + 1;
            }
        }
        IdempotentConsumer<String, String> c = closing(builder(kafka, "g-" + topic, store, (r, tx) -> {
            if (r.key().equals("o-12")) {
                failing.failNextCommit(committed); // the commit of the batch that holds o-12
            }
            Orders.apply(r, tx);
        }, new SimpleMeterRegistry(), 10).build());
        c.assign(List.of(new TopicPartition(topic, 0)));
        pollUntil(c, "all 40", () -> Orders.distinct(db) == 40);
        assertEquals(1, failing.failed.get(), "one commit failed");
        assertEquals(40, Orders.rows(db), "each effect once");
        assertEquals(balance, Orders.balance(db));
        assertTrue(c.stats().storeFailures() >= 1);
        // committed: the retry finds the batch's records recorded (duplicates); not committed: applies them
        assertEquals(40, c.stats().applied() + c.stats().duplicates(), c.stats().toString());
        if (committed) {
            assertTrue(c.stats().duplicates() > 0, "the committed batch came back as duplicates: " + c.stats());
        } else {
            assertEquals(0, c.stats().duplicates(), c.stats().toString());
        }
    }

    /**
     * A rebalance in the middle of a batch: A is stuck in a handler in its first batch past max.poll.interval.ms and
     * leaves the group; B gets the partition and its claim of the position waits for A's open batch (seen in
     * pg_stat_activity). A's batch commits, B reads the position after it; A's next batch of that partition is
     * fenced (another epoch), so B applies the rest and meets no duplicate: B never read a position the old owner
     * then moved.
     */
    @Test
    void aRebalanceMidBatchHandsThePartitionOverAtTheOldOwnersLastCommittedBatch() throws Exception {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = database(true);
        JdbcProcessedIdStore store = closing(JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build());
        String topic = topic(kafka);
        long balance = 0;
        try (KafkaProducer<String, String> p = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 10; i++) {
                Brokers.send(p, topic, 0, "o-" + i, String.valueOf(i + 1));
                balance += i + 1;
            }
        }
        String group = "g-" + topic;
        CountDownLatch aInHandler = new CountDownLatch(1);
        CountDownLatch releaseA = new CountDownLatch(1);
        KafkaConsumer<String, String> ka = Brokers.consumer(kafka.bootstrap(), group, Map.of(
            ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "2000", ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300"));
        IdempotentConsumer<String, String> a = IdempotentConsumer.builder(ka, store,
                (ConsumerRecord<String, String> r, Connection tx) -> {
                    if (r.key().equals("o-2")) {
                        aInHandler.countDown();
                        if (!releaseA.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("never released");
                        }
                    }
                    Orders.apply(r, tx);
                }).keyExtractor(KeyExtractor.header("dedup-id")).meterRegistry(new SimpleMeterRegistry())
            .maxRecordsPerTransaction(5).build();
        IdempotentConsumer<String, String> b = builder(kafka, group, store, Orders::apply,
            new SimpleMeterRegistry(), 5).build();
        Future<?> aLoop = loop(a, topic);
        assertTrue(aInHandler.await(60, TimeUnit.SECONDS), "A never got o-2");
        Future<?> bLoop = loop(b, topic);
        Await.until("B's claim waiting on A's batch", Duration.ofSeconds(60), () -> Databases.queryLong(db,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                + " AND query LIKE 'UPDATE %owner_epoch%'") > 0);
        releaseA.countDown();
        Await.until("all 10", Duration.ofSeconds(60), () -> Orders.distinct(db) == 10);
        stop.set(true);
        aLoop.get(30, TimeUnit.SECONDS);
        bLoop.get(30, TimeUnit.SECONDS);
        assertEquals(10, Orders.rows(db), "each effect once: " + a.stats() + " / " + b.stats());
        assertEquals(balance, Orders.balance(db));
        // A's stuck batch committed (B waited for it); whoever owns the partition afterwards applies the rest
        assertTrue(a.stats().applied() >= 3, "A committed its batch up to o-2 at least: " + a.stats());
        assertEquals(10, a.stats().applied() + b.stats().applied(), a.stats() + " / " + b.stats());
        assertEquals(0, b.stats().duplicates() + a.stats().duplicates(),
            "B read the position after A's batch, and A's next batch was fenced: " + a.stats() + " / " + b.stats());
    }

    private Future<?> loop(IdempotentConsumer<String, String> c, String topic) {
        return threads.submit(() -> {
            c.subscribe(List.of(topic));
            try {
                while (!stop.get()) {
                    c.pollOnce(Duration.ofMillis(100));
                }
            } finally {
                c.close();
            }
            return null;
        });
    }

    /**
     * A DataSource whose next commit, once armed, fails with a connection failure (SQLState 08006) either after
     * the database committed (the answer was lost) or without committing (rolled back).
     */
    static final class FailingCommits implements DataSource {
        private final DataSource delegate;
        private final AtomicReference<Boolean> armed = new AtomicReference<>();
        final AtomicInteger failed = new AtomicInteger();

        FailingCommits(DataSource delegate) {
            this.delegate = delegate;
        }

        void failNextCommit(boolean committed) {
            if (failed.get() == 0) {
                armed.compareAndSet(null, committed);
            }
        }

        @Override
        public Connection getConnection() throws SQLException {
            Connection real = delegate.getConnection();
            AtomicBoolean broken = new AtomicBoolean();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[]{Connection.class}, (proxy, method, args) -> {
                    String name = method.getName();
                    if (name.equals("commit")) {
                        Boolean committed = armed.getAndSet(null);
                        if (committed != null) {
                            failed.incrementAndGet();
                            broken.set(true);
                            if (committed) {
                                real.commit();
                            } else {
                                real.rollback();
                            }
                            throw new SQLException("simulated: the connection broke at the commit", "08006");
                        }
                    }
                    if (broken.get() && name.equals("isValid")) {
                        return false;
                    }
                    if (broken.get() && (name.equals("rollback") || name.equals("commit"))) {
                        throw new SQLException("simulated: connection broken", "08003");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
