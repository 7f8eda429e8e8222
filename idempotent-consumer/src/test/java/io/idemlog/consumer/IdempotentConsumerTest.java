package io.idemlog.consumer;

import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.SimpleConnectionPool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The consumer end to end against a real Apache Kafka broker: producer-side duplicates, a restart in the middle,
 * handler failures and retries, poison records with and without a dead-letter topic. Effects go to the
 * {@link Orders} tables (not idempotent), so every duplicate effect shows in the row count and the balance.
 */
class IdempotentConsumerTest {
    /** A store and mode. */
    enum Setup {
        MEMORY_INSERT_FIRST(false, false), H2_INSERT_FIRST(false, true), H2_TRANSACTIONAL(false, true),
        POSTGRES_INSERT_FIRST(true, true), POSTGRES_TRANSACTIONAL(true, true);

        final boolean postgres;
        final boolean jdbc;

        Setup(boolean postgres, boolean jdbc) {
            this.postgres = postgres;
            this.jdbc = jdbc;
        }

        boolean transactional() {
            return name().endsWith("TRANSACTIONAL");
        }
    }

    private static final AtomicInteger NEXT = new AtomicInteger();
    private static KafkaBroker kafka;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void startBroker() {
        kafka = Brokers.kafka();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private static String topic() {
        String t = "orders-" + NEXT.incrementAndGet();
        kafka.createTopic(t);
        return t;
    }

    private SimpleConnectionPool database(Setup s) {
        SimpleConnectionPool pool = closing(s.postgres ? Databases.newPostgresDatabase("consumer", 8)
            : Databases.newH2Database("consumer", 8));
        Orders.createSchema(pool);
        return pool;
    }

    private ProcessedIdStore store(Setup s, DataSource ds) {
        ProcessedIdStore store = s.jdbc ? JdbcProcessedIdStore.builder(ds).purgeInterval(Duration.ZERO).build()
            : MemoryProcessedIdStore.builder().build();
        return closing(store);
    }

    private IdempotentConsumer.Builder<String, String> builder(Setup s, ProcessedIdStore store, DataSource effects,
                                                               String group) {
        KafkaConsumer<String, String> consumer = Brokers.consumer(kafka.bootstrap(), group, Map.of());
        IdempotentConsumer.Builder<String, String> b = s.transactional()
            ? IdempotentConsumer.builder(consumer, (JdbcProcessedIdStore) store, Orders::apply)
            : IdempotentConsumer.<String, String>builder(consumer, store,
                r -> Orders.applyInOwnTransaction(effects, r));
        return b.keyExtractor(KeyExtractor.header("dedup-id")).meterRegistry(new SimpleMeterRegistry())
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50));
    }

    static void pollUntil(IdempotentConsumer<?, ?> c, String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what + "; stats " + c.stats());
            }
            c.pollOnce(Duration.ofMillis(100));
        }
    }

    @ParameterizedTest
    @EnumSource(Setup.class)
    void shouldApplyEachRecordOnceThoughTheProducerSentSomeTwiceAndTheConsumerRestarted(Setup s) {
        String topic = topic();
        String group = "g-" + topic;
        SimpleConnectionPool db = database(s);
        ProcessedIdStore store = store(s, db);
        long expectedBalance = 0;
        try (KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 60; i++) {
                int p = i % Brokers.PARTITIONS;
                Brokers.send(producer, topic, p, "o-" + i, String.valueOf(i + 1));
                expectedBalance += i + 1;
                if (i % 4 == 0) { // the producer re-sends a quarter of them: same id, a later offset
                    Brokers.send(producer, topic, p, "o-" + i, String.valueOf(i + 1));
                }
            }
        }
        int total = 75;
        IdempotentConsumer<String, String> first = builder(s, store, db, group).build();
        first.subscribe(List.of(topic));
        pollUntil(first, "half the records", () -> first.stats().applied() + first.stats().duplicates() >= 30);
        ConsumerStats a = first.stats();
        first.close(); // insert-first: commits its offsets; transactional: its positions are in the database

        IdempotentConsumer<String, String> second = builder(s, store, db, group).build();
        second.subscribe(List.of(topic));
        pollUntil(second, "every order applied", () -> Orders.distinct(db) == 60
            && second.stats().duplicates() + a.duplicates() == 15);
        second.close();

        assertEquals(60, Orders.rows(db), "each order's effect once");
        assertEquals(expectedBalance, Orders.balance(db));
        ConsumerStats b = second.stats();
        assertEquals(60, a.applied() + b.applied());
        assertEquals(15, a.duplicates() + b.duplicates(), "the producer's 15 repeats skipped");
        assertTrue(a.applied() + a.duplicates() + b.applied() + b.duplicates() >= total);
    }

    @Test
    void shouldRetryAFailedRecordWithoutRecordingItsIdAndKeepThePartitionsOrder() {
        Setup s = Setup.H2_TRANSACTIONAL;
        String topic = topic();
        SimpleConnectionPool db = database(s);
        JdbcProcessedIdStore store = (JdbcProcessedIdStore) store(s, db);
        try (KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 10; i++) {
                Brokers.send(producer, topic, 0, "o-" + i, "1");
            }
        }
        AtomicInteger failuresLeft = new AtomicInteger(2);
        List<String> applied = Collections.synchronizedList(new ArrayList<>());
        List<Long> idRowsSeenOnRetry = Collections.synchronizedList(new ArrayList<>());
        IdempotentConsumer<String, String> c = IdempotentConsumer.<String, String>builder(
                Brokers.consumer(kafka.bootstrap(), "g-" + topic, Map.of()), store, (r, tx) -> {
                    if (r.key().equals("o-5")) {
                        // what others see of this record's id while its handler runs: nothing committed
                        idRowsSeenOnRetry.add(Databases.queryLong(db, "SELECT COUNT(*) FROM idemlog_processed_ids"
                            + " WHERE id = X'" + hex("o-5") + "'"));
                        if (failuresLeft.getAndDecrement() > 0) {
                            throw new IllegalStateException("downstream said no");
                        }
                    }
                    Orders.apply(r, tx);
                    applied.add(r.key());
                })
            .keyExtractor(KeyExtractor.header("dedup-id")).meterRegistry(new SimpleMeterRegistry())
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).build();
        closing(c);
        c.subscribe(List.of(topic));
        pollUntil(c, "all ten applied", () -> applied.size() == 10);
        assertEquals(List.of("o-0", "o-1", "o-2", "o-3", "o-4", "o-5", "o-6", "o-7", "o-8", "o-9"), applied,
            "the partition waited for its failed record");
        assertEquals(2, c.stats().handlerFailures());
        assertEquals(List.of(0L, 0L, 0L), idRowsSeenOnRetry, "the id is never recorded before the effect commits");
        assertEquals(10, Orders.rows(db));
        assertEquals(1, Databases.queryLong(db, "SELECT COUNT(*) FROM idemlog_processed_ids WHERE id = X'"
            + hex("o-5") + "'"));
    }

    @Test
    void shouldDeadLetterAPoisonRecordAfterItsLastAttemptAndGoOn() {
        Setup s = Setup.POSTGRES_TRANSACTIONAL;
        String topic = topic();
        String dlt = topic();
        SimpleConnectionPool db = database(s);
        JdbcProcessedIdStore store = (JdbcProcessedIdStore) store(s, db);
        try (KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap())) {
            for (int i = 0; i < 6; i++) {
                Brokers.send(producer, topic, 0, i == 2 ? "poison" : "o-" + i, i == 2 ? "not a number" : "1");
            }
        }
        KafkaProducer<String, String> dltProducer = closing(Brokers.producer(kafka.bootstrap()));
        IdempotentConsumer<String, String> c = builder(s, store, db, "g-" + topic).maxAttempts(3)
            .deadLetterTopic(dlt, dltProducer).build();
        closing(c);
        c.subscribe(List.of(topic));
        pollUntil(c, "five applied and one dead-lettered", () -> c.stats().applied() == 5
            && c.stats().deadLettered() == 1);
        assertEquals(3, c.stats().handlerFailures(), "three attempts, then the dead-letter topic");
        assertEquals(5, Orders.rows(db));
        assertEquals(Map.of(new TopicPartition(topic, 0), 6L), store.loadPositions(c.scope(),
            List.of(new TopicPartition(topic, 0))), "the position moved past the poison record");

        try (KafkaConsumer<String, String> reader = Brokers.consumer(kafka.bootstrap(), "reader-" + dlt, Map.of())) {
            reader.subscribe(List.of(dlt));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (got.isEmpty() && System.nanoTime() - deadline < 0) {
                reader.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(1, got.size());
            ConsumerRecord<String, String> dead = got.get(0);
            assertEquals("poison", dead.key());
            assertEquals("not a number", dead.value());
            assertEquals(topic, header(dead, "idemlog.dlt.topic"));
            assertEquals("2", header(dead, "idemlog.dlt.offset"));
            assertEquals("3", header(dead, "idemlog.dlt.attempts"));
            assertEquals(NumberFormatException.class.getName(), header(dead, "idemlog.dlt.exception"));
            assertEquals("poison", header(dead, "dedup-id"), "the original headers are kept");
        }
    }

    @Test
    void shouldStopOnAPoisonRecordWhenThereIsNoDeadLetterTarget() {
        Setup s = Setup.H2_TRANSACTIONAL;
        String topic = topic();
        SimpleConnectionPool db = database(s);
        JdbcProcessedIdStore store = (JdbcProcessedIdStore) store(s, db);
        try (KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap())) {
            Brokers.send(producer, topic, 0, "o-0", "1");
            Brokers.send(producer, topic, 0, "poison", "x");
            Brokers.send(producer, topic, 0, "o-2", "1");
        }
        IdempotentConsumer<String, String> c = builder(s, store, db, "g-" + topic).maxAttempts(2).build();
        closing(c);
        c.subscribe(List.of(topic));
        PoisonRecordException e = assertThrows(PoisonRecordException.class,
            () -> pollUntil(c, "the poison record", () -> false));
        assertEquals(1, e.offset());
        assertEquals(2, e.attempts());
        assertEquals(1, Orders.rows(db), "nothing after the poison record was applied");
        assertThrows(PoisonRecordException.class, () -> pollUntil(c, "the poison record again", () -> false),
            "it stays on the record");
        assertEquals(Map.of(new TopicPartition(topic, 0), 1L), store.loadPositions(c.scope(),
            List.of(new TopicPartition(topic, 0))));
    }

    @Test
    void shouldRefuseToBuildWithoutAKeyExtractorOrAScope() {
        MemoryProcessedIdStore store = MemoryProcessedIdStore.builder().build();
        KafkaConsumer<String, String> noGroup = closing(Brokers.consumer(kafka.bootstrap(), null, Map.of()));
        IllegalStateException noKeys = assertThrows(IllegalStateException.class,
            () -> IdempotentConsumer.<String, String>builder(noGroup, store, r -> { }).scope("s").build());
        assertTrue(noKeys.getMessage().contains("key extractor"), noKeys.getMessage());
        IllegalStateException noScope = assertThrows(IllegalStateException.class,
            () -> IdempotentConsumer.<String, String>builder(noGroup, store, r -> { })
                .keyExtractor(KeyExtractor.position()).build());
        assertTrue(noScope.getMessage().contains("scope"), noScope.getMessage());
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static String hex(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            sb.append(String.format("%02X", b));
        }
        return sb.toString();
    }
}
