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

/** The store contract on {@link JdbcProcessedIdStore} over a real PostgreSQL (the ON CONFLICT dialect). */
class PostgresProcessedIdStoreTest extends ProcessedIdStoreContract {
    private final List<SimpleConnectionPool> pools = new ArrayList<>();
    private SimpleConnectionPool last;

    protected SqlDialect dialect() {
        return null; // detect
    }

    protected int cacheSize() {
        return 0;
    }

    @Override
    protected ProcessedIdStore create(Duration window, long maxIds, Clock clock) {
        last = Databases.newPostgresDatabase("contract", 16);
        pools.add(last);
        JdbcProcessedIdStore.Builder b = JdbcProcessedIdStore.builder(last).window(window).maxIds(maxIds)
            .clock(clock).purgeInterval(Duration.ZERO).purgeBatchSize(7).cacheSize(cacheSize());
        if (dialect() != null) {
            // the portable dialect's DDL says VARBINARY, which PostgreSQL lacks: the tables come from the detected one
            JdbcProcessedIdStore.builder(last).purgeInterval(Duration.ZERO).build().close();
            b.dialect(dialect()).createTables(false);
        }
        return b.build();
    }

    @Override
    protected void awaitBlocked(Thread t) {
        Await.until("a PostgreSQL backend waiting for a lock", Duration.ofSeconds(10), () -> Databases.queryLong(last,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND datname = current_database()") > 0);
    }

    @AfterEach
    void closePools() {
        pools.forEach(SimpleConnectionPool::close);
    }

    @Test
    void shouldDetectThePostgresDialect() {
        JdbcProcessedIdStore s = (JdbcProcessedIdStore) store();
        assertEquals(dialect() == null ? SqlDialect.POSTGRESQL : dialect(), s.dialect());
    }
}
