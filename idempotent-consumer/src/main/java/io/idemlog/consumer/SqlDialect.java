package io.idemlog.consumer;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * How {@link JdbcProcessedIdStore} speaks to one kind of database. The difference that matters is what a duplicate
 * key does to the transaction around it:
 * <ul>
 *   <li>{@link #POSTGRESQL}: a unique-key violation aborts the whole transaction (every later statement fails with
 *       "current transaction is aborted", and the commit rolls back: the trap of Camel's CAMEL-24048), so the insert
 *       never violates the key: {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE <expired>} and its row count.</li>
 *   <li>{@link #H2} and {@link #GENERIC}: {@code ON CONFLICT} is not standard SQL, so the insert runs inside a
 *       savepoint; a violation (SQLState class 23) rolls back to the savepoint only, and the transaction goes on.
 *       This works on PostgreSQL too, and on any database with savepoints.</li>
 * </ul>
 */
public enum SqlDialect {
    /** PostgreSQL 9.5+: {@code ON CONFLICT}, {@code BYTEA}, batched deletes by {@code ctid}. */
    POSTGRESQL("BYTEA", true),
    /** H2 2.x: savepoints, {@code VARBINARY}, batched deletes with {@code FETCH FIRST}. */
    H2("VARBINARY(" + KeyExtractor.MAX_KEY_BYTES + ")", false),
    /** Any other database with savepoints and {@code CREATE TABLE IF NOT EXISTS}; unbatched purge. */
    GENERIC("VARBINARY(" + KeyExtractor.MAX_KEY_BYTES + ")", false);

    final String binaryType;
    final boolean onConflict;

    SqlDialect(String binaryType, boolean onConflict) {
        this.binaryType = binaryType;
        this.onConflict = onConflict;
    }

    /** The dialect of the database behind {@code connection}, from its product name. */
    public static SqlDialect detect(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("postgresql")) {
            return POSTGRESQL;
        }
        if (product.equals("h2")) {
            return H2;
        }
        return GENERIC;
    }

    /** Whether {@code e} is a unique-key (integrity constraint) violation. */
    static boolean isUniqueViolation(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("23")) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code e} says the connection itself failed (SQLState class 08) rather than the statement. */
    static boolean isConnectionFailure(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code e} says the database rolled the transaction back to resolve a conflict (SQLState class 40:
     * serialization failure 40001, PostgreSQL's deadlock 40P01): the same transaction may succeed when retried.
     */
    static boolean isTransactionRollback(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("40")) {
                return true;
            }
        }
        return false;
    }
}
