package io.idemlog.consumer;

import io.idemlog.testkit.SimpleConnectionPool;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The batched mode's claim of positions ({@link JdbcProcessedIdStore#claimPositions}) and the position lock of a
 * batch, on H2 and PostgreSQL: epochs count the claims (per scope), a claimed partition without a position reads as
 * none, a positions table created before the fence gets its column (BatchedTransactionTest shows a claim waiting for
 * an open batch).
 */
class PositionClaimTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private SimpleConnectionPool database(boolean postgres) {
        SimpleConnectionPool db = postgres ? Databases.newPostgresDatabase("claim", 4)
            : Databases.newH2Database("claim", 4);
        closeables.add(db);
        return db;
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void claimsCountEpochsAndAClaimedPartitionWithoutAPositionHasNone(boolean postgres) {
        SimpleConnectionPool db = database(postgres);
        // a positions table as earlier versions created it, without owner_epoch, with a stored position
        Databases.execute(db, "CREATE TABLE idemlog_positions (scope VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT"
            + " NULL, kafka_partition INT NOT NULL, next_offset BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
            + " PRIMARY KEY (scope, topic, kafka_partition))", "INSERT INTO idemlog_positions VALUES ('app', 't', 0,"
            + " 7, 0)");
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(db).purgeInterval(Duration.ZERO).build();
        closeables.add(store);
        TopicPartition p0 = new TopicPartition("t", 0);
        TopicPartition p1 = new TopicPartition("t", 1);
        assertEquals(Map.of(p0, new JdbcProcessedIdStore.Claim(7, 1), p1, new JdbcProcessedIdStore.Claim(-1, 1)),
            store.claimPositions("app", List.of(p1, p0)));
        assertEquals(Map.of(p0, 7L), store.loadPositions("app", List.of(p0, p1)), "-1 is no position");
        assertEquals(Map.of(p1, new JdbcProcessedIdStore.Claim(-1, 2)), store.claimPositions("app", List.of(p1)));
        assertEquals(Map.of(p1, new JdbcProcessedIdStore.Claim(-1, 1)), store.claimPositions("other", List.of(p1)),
            "epochs are per scope");
        try (JdbcProcessedIdStore.JdbcTransaction tx = store.begin()) {
            assertEquals(2, tx.lockPosition("app", p1));
            assertEquals(-1, tx.lockPosition("app", new TopicPartition("t", 9)), "no row");
            tx.storePosition("app", p1, 3, 0);
            tx.commit();
        }
        assertEquals(Map.of(p0, 7L, p1, 3L), store.loadPositions("app", List.of(p0, p1)));
        assertEquals(Map.of(p1, new JdbcProcessedIdStore.Claim(3, 3)), store.claimPositions("app", List.of(p1)));
    }
}
