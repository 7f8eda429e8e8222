package io.idemlog.consumer;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.SimpleConnectionPool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real consumers of one group process the same record at the same time: consumer A is stuck in its handler on
 * record X past max.poll.interval.ms, is dropped from the group, and B gets X's partition and processes X while A's
 * transaction (holding X's id) is still open. The unique key decides: B waits on A's row lock (seen in
 * pg_stat_activity) and skips X once A commits, or applies it if A fails. The control, the same overlap without the
 * wrapper, applies X twice.
 */
class RebalanceRaceTest {
    private static final String X = "order-x";
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

    private static Map<String, Object> slowMemberConfig() {
        return Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "2000",
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300");
    }

    private String topicWithX(KafkaBroker kafka) {
        String topic = "race-" + System.nanoTime();
        kafka.createTopic(topic);
        try (KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap())) {
            Brokers.send(producer, topic, 0, X, "100");
        }
        return topic;
    }

    @ParameterizedTest(name = "transactional={0}, A fails={1}")
    @CsvSource({"true,false", "true,true", "false,false", "false,true"})
    void shouldApplyARecordProcessedByTwoConsumersAtOnceExactlyOnce(boolean transactional, boolean aFails)
        throws Exception {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = Databases.newPostgresDatabase("race", 8);
        closeables.add(db);
        Orders.createSchema(db);
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build();
        closeables.add(store);
        String topic = topicWithX(kafka);
        String group = "g-" + topic;

        CountDownLatch aInHandler = new CountDownLatch(1);
        CountDownLatch releaseA = new CountDownLatch(1);
        AtomicBoolean failedOnce = new AtomicBoolean();
        IdempotentConsumer<String, String> a = consumer(kafka, group, store, db, transactional, slowMemberConfig(),
            r -> {
                aInHandler.countDown();
                if (!releaseA.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
                if (aFails && !failedOnce.getAndSet(true)) {
                    throw new IllegalStateException("A fails after the overlap"); // rolled back; A retries later
                }
            });
        IdempotentConsumer<String, String> b = consumer(kafka, group, store, db, transactional, Map.of(), r -> { });
        Future<?> aLoop = loop(a);
        assertTrue(aInHandler.await(60, TimeUnit.SECONDS), "A never got X");

        Future<?> bLoop = loop(b);
        // B has X's partition now and its insert of X's id waits for A's open transaction
        Await.until("B waiting on A's row lock", Duration.ofSeconds(60), () -> Databases.queryLong(db,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND datname = current_database()") > 0);
        releaseA.countDown();

        Await.until("X settled", Duration.ofSeconds(60), () -> aFails ? b.stats().applied() == 1
            : b.stats().duplicates() >= 1);
        stop.set(true);
        aLoop.get(30, TimeUnit.SECONDS);
        bLoop.get(30, TimeUnit.SECONDS);
        assertEquals(1, Orders.rowsOf(db, X), "exactly one effect of X: " + a.stats() + " / " + b.stats());
        assertEquals(100, Orders.balance(db));
        assertEquals(aFails ? 0 : 1, a.stats().applied());
        assertEquals(aFails ? 1 : 0, b.stats().applied());
    }

    /** The control: the same forced overlap with at-least-once consumers (effect, then offset commit): X twice. */
    @Test
    void withoutTheWrapperTheOverlapAppliesTheRecordTwice() throws Exception {
        KafkaBroker kafka = Brokers.kafka();
        SimpleConnectionPool db = Databases.newPostgresDatabase("race", 8);
        closeables.add(db);
        Orders.createSchema(db);
        String topic = topicWithX(kafka);
        String group = "g-" + topic;
        CountDownLatch aInHandler = new CountDownLatch(1);
        CountDownLatch releaseA = new CountDownLatch(1);
        Future<?> aLoop = threads.submit(() -> plainLoop(kafka, group, topic, db, slowMemberConfig(), r -> {
            aInHandler.countDown();
            releaseA.await(60, TimeUnit.SECONDS);
        }));
        assertTrue(aInHandler.await(60, TimeUnit.SECONDS), "A never got X");
        Future<?> bLoop = threads.submit(() -> plainLoop(kafka, group, topic, db, Map.of(), r -> { }));
        Await.until("B applied X", Duration.ofSeconds(60), () -> Orders.rowsOf(db, X) == 1);
        releaseA.countDown();
        Await.until("A applied X too", Duration.ofSeconds(60), () -> Orders.rowsOf(db, X) == 2);
        stop.set(true);
        aLoop.get(30, TimeUnit.SECONDS);
        bLoop.get(30, TimeUnit.SECONDS);
        assertEquals(2, Orders.rowsOf(db, X), "the overlap creates a duplicate effect without the wrapper");
        assertEquals(200, Orders.balance(db));
    }

    interface Hook {
        void before(ConsumerRecord<String, String> r) throws Exception;
    }

    private IdempotentConsumer<String, String> consumer(KafkaBroker kafka, String group, JdbcProcessedIdStore store,
                                                        SimpleConnectionPool db, boolean transactional,
                                                        Map<String, Object> config, Hook hook) {
        KafkaConsumer<String, String> kc = Brokers.consumer(kafka.bootstrap(), group, config);
        IdempotentConsumer.Builder<String, String> b = transactional
            ? IdempotentConsumer.builder(kc, store, (r, tx) -> {
                hook.before(r);
                Orders.apply(r, tx);
            })
            : IdempotentConsumer.<String, String>builder(kc, store, r -> {
                hook.before(r);
                Orders.applyInOwnTransaction(db, r);
            });
        return b.keyExtractor(KeyExtractor.header("dedup-id")).meterRegistry(new SimpleMeterRegistry())
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).build();
    }

    private Future<?> loop(IdempotentConsumer<String, String> c) {
        return threads.submit(() -> {
            c.subscribe(List.of(c.consumer().groupMetadata().groupId().replaceFirst("^g-", "")));
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

    private Void plainLoop(KafkaBroker kafka, String group, String topic, SimpleConnectionPool db,
                           Map<String, Object> config, Hook hook) throws Exception {
        try (KafkaConsumer<String, String> kc = Brokers.consumer(kafka.bootstrap(), group, config)) {
            kc.subscribe(List.of(topic));
            while (!stop.get()) {
                for (ConsumerRecord<String, String> r : kc.poll(Duration.ofMillis(100))) {
                    hook.before(r);
                    Orders.applyInOwnTransaction(db, r);
                    try {
                        kc.commitSync(Map.of(new TopicPartition(r.topic(), r.partition()),
                            new OffsetAndMetadata(r.offset() + 1)));
                    } catch (RuntimeException e) {
                        // A was dropped from the group: its commit fails, its effect stays
                    }
                }
            }
        }
        return null;
    }
}
