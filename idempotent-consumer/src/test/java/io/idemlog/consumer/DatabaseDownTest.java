package io.idemlog.consumer;

import io.idemlog.testkit.EmbeddedPostgres;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.Ports;
import io.idemlog.testkit.SimpleConnectionPool;
import io.idemlog.testkit.TcpProxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.idemlog.consumer.IdempotentConsumerTest.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The database goes away (a TCP proxy in front of PostgreSQL refuses and cuts every connection) while records keep
 * arriving: processing stops, nothing is skipped or half-applied, and it resumes by itself when the database is
 * back. A connection cut in the middle of a handler's transaction is the infrastructure's failure, not the
 * record's: retried without counting an attempt.
 */
class DatabaseDownTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @ParameterizedTest(name = "transactional={0}")
    @ValueSource(booleans = {true, false})
    void shouldStopWhileTheDatabaseIsDownAndResumeWithoutSkippingAnything(boolean transactional) {
        KafkaBroker kafka = Brokers.kafka();
        EmbeddedPostgres pg = Databases.postgres();
        TcpProxy proxy = TcpProxy.start(Ports.loopback(pg.port()));
        closeables.add(proxy);
        String url = Databases.newPostgresDatabaseVia(proxy.port(), "down");
        SimpleConnectionPool viaProxy = SimpleConnectionPool.of(url, EmbeddedPostgres.SUPERUSER, 4);
        viaProxy.setLoginTimeout(3);
        SimpleConnectionPool direct = SimpleConnectionPool.of(url.replace(":" + proxy.port() + "/",
            ":" + pg.port() + "/"), EmbeddedPostgres.SUPERUSER, 2);
        closeables.add(viaProxy);
        closeables.add(direct);
        Orders.createSchema(direct);
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(viaProxy).purgeInterval(Duration.ZERO).build();
        closeables.add(store);

        String topic = "down-" + transactional + "-" + System.nanoTime();
        kafka.createTopic(topic);
        AtomicBoolean cutInHandler = new AtomicBoolean();
        KafkaConsumer<String, String> consumer = Brokers.consumer(kafka.bootstrap(), "g-" + topic, Map.of());
        IdempotentConsumer.Builder<String, String> b;
        if (transactional) {
            b = IdempotentConsumer.builder(consumer, store, (r, tx) -> {
                if (r.key().equals("o-25") && cutInHandler.compareAndSet(false, true)) {
                    proxy.cutConnections(); // the network drops in the middle of the effect's transaction
                }
                Orders.apply(r, tx);
            });
        } else {
            b = IdempotentConsumer.<String, String>builder(consumer, store, r -> {
                if (r.key().equals("o-25") && cutInHandler.compareAndSet(false, true)) {
                    proxy.cutConnections();
                }
                Orders.applyInOwnTransaction(viaProxy, r);
            });
        }
        IdempotentConsumer<String, String> c = b.keyExtractor(KeyExtractor.header("dedup-id"))
            .meterRegistry(new SimpleMeterRegistry()).storeBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
        closeables.add(c);
        c.subscribe(List.of(topic));

        long balance = 0;
        KafkaProducer<String, String> producer = Brokers.producer(kafka.bootstrap());
        closeables.add(producer);
        for (int i = 0; i < 20; i++) {
            Brokers.send(producer, topic, i % Brokers.PARTITIONS, "o-" + i, String.valueOf(i + 1));
            balance += i + 1;
        }
        pollUntil(c, "the first 20", () -> Orders.rows(direct) == 20);

        proxy.down();
        for (int i = 20; i < 40; i++) {
            Brokers.send(producer, topic, i % Brokers.PARTITIONS, "o-" + i, String.valueOf(i + 1));
            balance += i + 1;
        }
        long failuresBefore = c.stats().storeFailures();
        pollUntil(c, "repeated store failures while the database is down",
            () -> c.stats().storeFailures() >= failuresBefore + 3);
        assertEquals(20, Orders.rows(direct), "nothing applied while the database is down");
        assertEquals(20, c.stats().applied());

        proxy.up();
        pollUntil(c, "all 40 once the database is back", () -> Orders.distinct(direct) == 40);
        assertEquals(40, Orders.rows(direct), "each effect once: nothing skipped, nothing doubled");
        assertEquals(balance, Orders.balance(direct));
        assertTrue(cutInHandler.get(), "the connection was cut inside a handler");
        assertEquals(0, c.stats().handlerFailures(), "infrastructure failures are not the record's attempts");
        assertEquals(40, c.stats().applied());
    }
}
