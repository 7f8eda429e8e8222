package io.idemlog.consumer;

import io.idemlog.testkit.SimpleConnectionPool;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What only the JDBC store does, on PostgreSQL and H2: the pitfalls the anchors hit (a duplicate must not abort the
 * effect's transaction; the cache remembers an id only after its commit) and the positions of the transactional mode.
 */
class JdbcProcessedIdStoreTest {
    enum Db { POSTGRESQL, POSTGRESQL_SAVEPOINTS, H2 }

    private static final long T0 = 1_700_000_000_000L;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private SimpleConnectionPool pool(Db db) {
        SimpleConnectionPool p = db == Db.H2 ? Databases.newH2Database("jdbc", 8)
            : Databases.newPostgresDatabase("jdbc", 8);
        closeables.add(p);
        return p;
    }

    private JdbcProcessedIdStore store(Db db, SimpleConnectionPool pool, int cacheSize) {
        JdbcProcessedIdStore.Builder b = JdbcProcessedIdStore.builder(pool).purgeInterval(Duration.ZERO)
            .cacheSize(cacheSize);
        if (db == Db.POSTGRESQL_SAVEPOINTS) {
            JdbcProcessedIdStore.builder(pool).purgeInterval(Duration.ZERO).build().close(); // BYTEA tables
            b.dialect(SqlDialect.GENERIC).createTables(false);
        }
        JdbcProcessedIdStore s = b.build();
        closeables.add(s);
        return s;
    }

    private static byte[] id(String s) {
        return ProcessedIdStoreContract.id(s);
    }

    /**
     * The trap itself, shown on PostgreSQL without the store: insert first, catch the duplicate-key exception, go on.
     * The transaction is aborted; the effect's next statement fails and nothing commits (CAMEL-24048).
     */
    @Test
    void postgresAbortsTheTransactionOnAUniqueViolationWhenTheExceptionIsCaught() throws SQLException {
        SimpleConnectionPool pool = pool(Db.POSTGRESQL);
        Databases.execute(pool, "CREATE TABLE ids (id TEXT PRIMARY KEY)", "CREATE TABLE effects (n INT)",
            "INSERT INTO ids VALUES ('order-1')");
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            SQLException dup = assertThrows(SQLException.class, () -> s.execute("INSERT INTO ids VALUES ('order-1')"));
            assertEquals("23505", dup.getSQLState());
            SQLException aborted = assertThrows(SQLException.class, () -> s.execute("INSERT INTO effects VALUES (1)"));
            assertEquals("25P02", aborted.getSQLState(), "current transaction is aborted");
            c.commit(); // PostgreSQL turns the commit of an aborted transaction into a rollback
        }
        assertEquals(0, Databases.queryLong(pool, "SELECT COUNT(*) FROM effects"));
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void shouldLeaveTheTransactionUsableAfterADuplicate(Db db) throws SQLException {
        SimpleConnectionPool pool = pool(db);
        JdbcProcessedIdStore store = store(db, pool, 0);
        Databases.execute(pool, "CREATE TABLE effects (n INT)");
        try (StoreTransaction tx = store.begin()) {
            assertTrue(tx.insertIfAbsent("app", id("order-1"), T0));
            tx.commit();
        }
        try (JdbcProcessedIdStore.JdbcTransaction tx = store.begin()) {
            assertFalse(tx.insertIfAbsent("app", id("order-1"), T0), "duplicate");
            try (Statement s = tx.connection().createStatement()) {
                s.execute("INSERT INTO effects VALUES (7)"); // the effect's statement after the duplicate
            }
            assertTrue(tx.insertIfAbsent("app", id("order-2"), T0));
            tx.storePosition("app", new TopicPartition("t", 0), 5, T0);
            tx.commit();
        }
        assertEquals(1, Databases.queryLong(pool, "SELECT COUNT(*) FROM effects"), "the effect committed");
        assertEquals(2, store.size());
    }

    /**
     * CAMEL-24046: a cache filled at the insert would answer "duplicate" for the redelivery of a record whose
     * transaction rolled back, and the record would never be processed.
     */
    @ParameterizedTest
    @EnumSource(Db.class)
    void shouldNotCacheAnIdWhoseTransactionRolledBack(Db db) {
        JdbcProcessedIdStore store = store(db, pool(db), 100);
        try (StoreTransaction tx = store.begin()) {
            assertTrue(tx.insertIfAbsent("app", id("order-1"), T0));
            tx.rollback(); // the handler threw
        }
        assertEquals(0, store.cachedIds());
        try (StoreTransaction tx = store.begin()) {
            assertTrue(tx.insertIfAbsent("app", id("order-1"), T0), "the redelivery must be processed");
            tx.commit();
        }
        assertEquals(1, store.cachedIds(), "committed: now it is cached");
        try (StoreTransaction tx = store.begin()) {
            assertFalse(tx.insertIfAbsent("app", id("order-1"), T0));
        }
    }

    /** The same pitfall when the commit itself fails (a deferred constraint the effect violated). */
    @Test
    void shouldNotCacheAnIdWhoseCommitFailed() throws SQLException {
        SimpleConnectionPool pool = pool(Db.POSTGRESQL);
        JdbcProcessedIdStore store = store(Db.POSTGRESQL, pool, 100);
        Databases.execute(pool, "CREATE TABLE orders (order_id TEXT, CONSTRAINT one_row UNIQUE (order_id)"
            + " DEFERRABLE INITIALLY DEFERRED)", "INSERT INTO orders VALUES ('order-1')");
        JdbcProcessedIdStore.JdbcTransaction tx = store.begin();
        assertTrue(tx.insertIfAbsent("app", id("order-1"), T0));
        try (Statement s = tx.connection().createStatement()) {
            s.execute("INSERT INTO orders VALUES ('order-1')"); // checked only at commit
        }
        assertThrows(StoreException.class, tx::commit);
        tx.close();
        assertEquals(0, store.cachedIds());
        assertEquals(0, store.size(), "nothing of the failed transaction is stored");
        try (StoreTransaction again = store.begin()) {
            assertTrue(again.insertIfAbsent("app", id("order-1"), T0), "the redelivery must be processed");
        }
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void shouldStorePositionsThatOnlyMoveForward(Db db) {
        JdbcProcessedIdStore store = store(db, pool(db), 0);
        TopicPartition p0 = new TopicPartition("orders", 0);
        TopicPartition p1 = new TopicPartition("orders", 1);
        assertEquals(Map.of(), store.loadPositions("app", List.of(p0, p1)));
        try (JdbcProcessedIdStore.JdbcTransaction tx = store.begin()) {
            tx.storePosition("app", p0, 10, T0);
            tx.storePosition("app", p1, 3, T0);
            tx.commit();
        }
        try (JdbcProcessedIdStore.JdbcTransaction tx = store.begin()) {
            tx.storePosition("app", p0, 7, T0); // a stale owner after a rebalance
            tx.storePosition("app", p1, 4, T0);
            tx.commit();
        }
        try (JdbcProcessedIdStore.JdbcTransaction tx = store.begin()) {
            tx.storePosition("app", p1, 99, T0);
            tx.rollback();
        }
        assertEquals(Map.of(p0, 10L, p1, 4L), store.loadPositions("app", List.of(p0, p1)));
        assertEquals(Map.of(p1, 4L), store.loadPositions("app", List.of(p1)));
        assertEquals(Map.of(), store.loadPositions("other", List.of(p0, p1)), "positions are per scope");
    }

    @Test
    void shouldFailClearlyWhenTheDatabaseIsUnreachable() {
        SimpleConnectionPool dead = SimpleConnectionPool.of("jdbc:postgresql://127.0.0.1:"
            + io.idemlog.testkit.Ports.freePort() + "/none?connectTimeout=2", "postgres", 2);
        closeables.add(dead);
        StoreException e = assertThrows(StoreException.class, () -> JdbcProcessedIdStore.builder(dead).build());
        assertTrue(e.getMessage().contains("idemlog_processed_ids"), e.getMessage());
    }

    @Test
    void shouldPurgeOnItsOwnThread() {
        SimpleConnectionPool pool = pool(Db.H2);
        MutableClock clock = new MutableClock(T0);
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(pool).window(Duration.ofSeconds(1)).clock(clock)
            .purgeInterval(Duration.ofMillis(20)).build();
        closeables.add(store);
        for (int i = 0; i < 10; i++) {
            ProcessedIdStoreContract.insertAndCommit(store, "app", "k" + i, T0);
        }
        clock.advance(1_000);
        io.idemlog.testkit.Await.until("the purge thread removed the expired ids", Duration.ofSeconds(10),
            () -> store.size() == 0);
        assertEquals(10, store.expiredPurged());
    }
}
