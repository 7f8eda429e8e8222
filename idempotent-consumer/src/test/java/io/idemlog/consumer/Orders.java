package io.idemlog.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The application effect of the tests: each record (value = amount) inserts a row into {@code orders} and adds its
 * amount to the single {@code balance} row. Neither is idempotent: there is no unique key on the order id, so every
 * time the effect is applied shows, and the balance drifts with every duplicate.
 */
final class Orders {
    private Orders() {
    }

    static void createSchema(DataSource ds) {
        Databases.execute(ds, "CREATE TABLE orders (order_id VARCHAR(200) NOT NULL, amount BIGINT NOT NULL)",
            "CREATE TABLE balance (id INT PRIMARY KEY, total BIGINT NOT NULL)",
            "INSERT INTO balance VALUES (1, 0)");
    }

    /** Applies the effect of {@code record} on {@code c}, in whatever transaction c is in. */
    static void apply(ConsumerRecord<String, String> record, Connection c) throws SQLException {
        long amount = Long.parseLong(record.value());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (order_id, amount) VALUES (?, ?)")) {
            ps.setString(1, record.key());
            ps.setLong(2, amount);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE balance SET total = total + ? WHERE id = 1")) {
            ps.setLong(1, amount);
            ps.executeUpdate();
        }
    }

    /** The effect in a transaction of its own (the insert-first mode's handler). */
    static void applyInOwnTransaction(DataSource ds, ConsumerRecord<String, String> record) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            apply(record, c);
            c.commit();
        }
    }

    static long rows(DataSource ds) {
        return Databases.queryLong(ds, "SELECT COUNT(*) FROM orders");
    }

    static long distinct(DataSource ds) {
        return Databases.queryLong(ds, "SELECT COUNT(DISTINCT order_id) FROM orders");
    }

    static long rowsOf(DataSource ds, String orderId) {
        return Databases.queryLong(ds, "SELECT COUNT(*) FROM orders WHERE order_id = '" + orderId + "'");
    }

    static long balance(DataSource ds) {
        return Databases.queryLong(ds, "SELECT total FROM balance WHERE id = 1");
    }
}
