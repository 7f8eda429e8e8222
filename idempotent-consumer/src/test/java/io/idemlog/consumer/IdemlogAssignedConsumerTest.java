package io.idemlog.consumer;

import io.idemlog.testkit.ServerProcess;
import io.idemlog.testkit.SimpleConnectionPool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.idemlog.consumer.IdempotentConsumerTest.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The transactional mode against the idemlog server, which has no consumer groups yet: the consumer is assigned its
 * partitions (no group.id, no coordinator) and takes its positions from the database, so a restarted consumer
 * resumes exactly where the committed effects end, without any Kafka offset commit.
 */
class IdemlogAssignedConsumerTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void shouldResumeFromTheDatabasePositionsAfterARestartWithoutGroups(boolean postgres) {
        ServerProcess idemlog = Brokers.idemlog();
        SimpleConnectionPool db = postgres ? Databases.newPostgresDatabase("idemlog", 4)
            : Databases.newH2Database("idemlog", 4);
        closeables.add(db);
        Orders.createSchema(db);
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build();
        closeables.add(store);
        String topic = "assigned-" + postgres + "-" + System.nanoTime();
        long balance = 0;
        try (KafkaProducer<String, String> producer = Brokers.producer(idemlog.bootstrap())) {
            for (int i = 0; i < 90; i++) {
                Brokers.send(producer, topic, i % Brokers.PARTITIONS, "o-" + i, String.valueOf(i));
                balance += i;
                if (i % 9 == 0) {
                    Brokers.send(producer, topic, i % Brokers.PARTITIONS, "o-" + i, String.valueOf(i));
                }
            }
        }
        List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1),
            new TopicPartition(topic, 2));
        IdempotentConsumer<String, String> first = consumer(idemlog, store);
        first.assign(partitions);
        pollUntil(first, "some records", () -> first.stats().applied() >= 40);
        first.close();
        long appliedFirst = first.stats().applied();

        IdempotentConsumer<String, String> second = consumer(idemlog, store);
        second.assign(partitions);
        pollUntil(second, "the rest", () -> Orders.distinct(db) == 90);
        second.close();
        assertEquals(90, Orders.rows(db));
        assertEquals(balance, Orders.balance(db));
        assertEquals(90, appliedFirst + second.stats().applied());
        Map<TopicPartition, Long> positions = store.loadPositions("orders-app", partitions);
        assertEquals(3, positions.size());
        assertEquals(100L, positions.values().stream().mapToLong(Long::longValue).sum(), "90 records + 10 repeats");
    }

    private IdempotentConsumer<String, String> consumer(ServerProcess idemlog, JdbcProcessedIdStore store) {
        return IdempotentConsumer.builder(Brokers.consumer(idemlog.bootstrap(), null, Map.of()), store, Orders::apply)
            .keyExtractor(KeyExtractor.header("dedup-id")).scope("orders-app").meterRegistry(new SimpleMeterRegistry())
            .build();
    }
}
