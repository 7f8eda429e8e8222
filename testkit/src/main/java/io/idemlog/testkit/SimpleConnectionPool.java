package io.idemlog.testkit;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A small JDBC connection pool for tests and benchmarks (applications bring their own, e.g. HikariCP): at most
 * {@code maxSize} physical connections from {@link DriverManager}; {@code close()} on a borrowed connection rolls back
 * what it left open and returns it, or discards it when it is broken (so a database outage does not leave dead
 * connections in the pool). Borrowing waits up to the login timeout for a free slot.
 *
 * <p>Thread-safe.
 */
public final class SimpleConnectionPool implements DataSource, AutoCloseable {
    private final String url;
    private final Properties properties;
    private final BlockingQueue<Connection> idle;
    private final Semaphore slots;
    private volatile int loginTimeoutSeconds = 10;
    private volatile boolean closed;

    /** A pool of at most {@code maxSize} connections to {@code url} with {@code properties} (user, password...). */
    public SimpleConnectionPool(String url, Properties properties, int maxSize) {
        this.url = url;
        this.properties = (Properties) properties.clone();
        this.idle = new ArrayBlockingQueue<>(maxSize);
        this.slots = new Semaphore(maxSize);
    }

    /** A pool to {@code url} as {@code user} without a password. */
    public static SimpleConnectionPool of(String url, String user, int maxSize) {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        return new SimpleConnectionPool(url, p, maxSize);
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (closed) {
            throw new SQLException("pool closed", "08003");
        }
        try {
            if (!slots.tryAcquire(loginTimeoutSeconds, TimeUnit.SECONDS)) {
                throw new SQLException("no free connection within " + loginTimeoutSeconds + " s", "08001");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted waiting for a connection", "08001", e);
        }
        Connection physical = idle.poll();
        try {
            if (physical == null) {
                physical = DriverManager.getConnection(url, properties);
            }
            physical.setAutoCommit(true);
        } catch (SQLException | RuntimeException e) {
            if (physical != null) {
                quietClose(physical);
            }
            slots.release();
            throw e;
        }
        return wrap(physical);
    }

    private Connection wrap(Connection physical) {
        InvocationHandler h = new InvocationHandler() {
            private boolean returned;

            @Override
            public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
                String name = method.getName();
                if (name.equals("close")) {
                    if (!returned) {
                        returned = true;
                        giveBack(physical);
                    }
                    return null;
                }
                if (name.equals("isClosed")) {
                    return returned || physical.isClosed();
                }
                if (returned) {
                    throw new SQLException("connection returned to the pool", "08003");
                }
                try {
                    return method.invoke(physical, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
            h);
    }

    private void giveBack(Connection physical) {
        try {
            boolean healthy = !physical.isClosed();
            if (healthy && !physical.getAutoCommit()) {
                physical.rollback();
            }
            // no validation query here (a round trip per borrow would halve a small transaction's rate): a driver
            // marks a connection closed once it has failed, and a failure on a borrowed one is the caller's to see
            if (healthy && !closed && !physical.isClosed() && idle.offer(physical)) {
                return;
            }
            quietClose(physical);
        } catch (SQLException e) {
            quietClose(physical);
        } finally {
            slots.release();
        }
    }

    private static void quietClose(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // broken anyway
        }
    }

    /** Closes the idle connections; borrowed ones are closed when returned. */
    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.poll()) != null) {
            quietClose(c);
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("one user per pool");
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("no java.util.logging");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }

    @Override
    public String toString() {
        return "SimpleConnectionPool(" + url + ")";
    }
}
