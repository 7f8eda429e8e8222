package io.idemlog.consumer;

import io.idemlog.testkit.Await;
import io.idemlog.testkit.SimpleConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The store contract on {@link JdbcProcessedIdStore} over H2 (the savepoint dialect). */
class H2ProcessedIdStoreTest extends ProcessedIdStoreContract {
    private final List<SimpleConnectionPool> pools = new ArrayList<>();
    private SimpleConnectionPool last;

    @Override
    protected ProcessedIdStore create(Duration window, long maxIds, Clock clock) {
        last = Databases.newH2Database("contract", 16);
        pools.add(last);
        return JdbcProcessedIdStore.builder(last).window(window).maxIds(maxIds).clock(clock)
            .purgeInterval(Duration.ZERO).purgeBatchSize(7).cacheSize(cacheSize()).build();
    }

    protected int cacheSize() {
        return 0;
    }

    @Override
    protected void awaitBlocked(Thread t) {
        // Embedded H2 retries an insert that meets a row another open transaction wrote until that transaction
        // ends (or LOCK_TIMEOUT): while it does, its session lists the INSERT as its executing statement.
        Await.until("an H2 session executing the insert of " + t.getName(), Duration.ofSeconds(10),
            () -> Databases.queryLong(last, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS"
                + " WHERE EXECUTING_STATEMENT LIKE 'INSERT INTO idemlog_processed_ids%'") > 0);
    }

    @AfterEach
    void closePools() {
        pools.forEach(SimpleConnectionPool::close);
    }

    @Test
    void shouldDetectTheH2Dialect() {
        assertEquals(SqlDialect.H2, ((JdbcProcessedIdStore) store()).dialect());
    }
}
