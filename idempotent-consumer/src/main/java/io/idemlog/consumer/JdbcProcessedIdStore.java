package io.idemlog.consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Processed ids in a database table with a unique key on (scope, id): insert first; a row that is already there
 * (and unexpired) means "already processed". Also keeps consumer positions for the transactional mode.
 *
 * <p>Tables (created unless {@link Builder#createTables(boolean) createTables(false)}; {@code idemlog_} is the
 * default {@linkplain Builder#tablePrefix prefix}):
 * <pre>
 * idemlog_processed_ids (scope VARCHAR(255), id BYTEA | VARBINARY(512), processed_at BIGINT,
 *                        PRIMARY KEY (scope, id)), index on processed_at
 * idemlog_positions     (scope VARCHAR(255), topic VARCHAR(255), kafka_partition INT, next_offset BIGINT,
 *                        updated_at BIGINT, owner_epoch BIGINT DEFAULT 0, PRIMARY KEY (scope, topic, kafka_partition))
 * </pre>
 * A position row with {@code next_offset = -1} was claimed ({@link #claimPositions}) before anything was processed
 * on it: no position. {@code owner_epoch} counts the claims (the batched transactional mode's fence).
 * <pre>
 * </pre>
 *
 * <p><b>Transactions.</b> {@link #begin()} takes a connection from the {@link DataSource} and turns auto-commit off.
 * The insert never leaves the transaction aborted (see {@link SqlDialect}), so the handler's statements and the
 * commit that follow it work on PostgreSQL too. Of two transactions inserting the same id, the database's row lock
 * makes the second wait for the first (both PostgreSQL and H2 do); the database's lock timeout bounds that wait.
 *
 * <p><b>Cache.</b> With {@link Builder#cacheSize} above 0, ids this store saw committed are remembered in memory (LRU,
 * with the same window), so a duplicate costs no round trip. An id enters the cache only after its transaction
 * committed, never at the insert: a cache filled at the insert would take a redelivery of a record whose
 * transaction failed for a duplicate, and the record would never be processed (Camel's CAMEL-24046).
 *
 * <p><b>Expiry and bound.</b> An id older than the window counts as new (the insert takes the row over), so expiry
 * is exact whatever the purge's progress. The purge thread (every {@link Builder#purgeInterval}) deletes expired ids
 * in batches of {@link Builder#purgeBatchSize} rows, each batch its own short transaction, then the oldest ids beyond
 * {@link Builder#maxIds}; between runs the table can exceed the bound by what arrives in one interval. The purge never
 * runs on a consumer's thread and holds row locks only for one batch.
 *
 * <p>Thread-safe. Each {@link JdbcTransaction} belongs to one thread.
 */
public final class JdbcProcessedIdStore implements ProcessedIdStore {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcProcessedIdStore.class);

    private final DataSource dataSource;
    private final SqlDialect dialect;
    private final String ids;
    private final String positions;
    private final Duration window;
    private final long windowMs;
    private final long maxIds;
    private final int purgeBatchSize;
    private final Clock clock;
    private final IdCache cache;
    private final ScheduledExecutorService purger;
    private final AtomicLong expired = new AtomicLong();
    private final AtomicLong evicted = new AtomicLong();
    private final AtomicLong purgeFailures = new AtomicLong();
    private final Counter expiredCounter;
    private final Counter evictedCounter;
    private final Counter purgeFailureCounter;
    private final Timer purgeTimer;
    private final String insertSql;
    private final String takeOverSql;
    private final String positionUpsertSql;
    private final String positionUpdateSql;
    private final String positionInsertSql;

    private JdbcProcessedIdStore(Builder b) {
        this.dataSource = b.dataSource;
        this.ids = b.tablePrefix + "processed_ids";
        this.positions = b.tablePrefix + "positions";
        this.window = b.window;
        this.windowMs = b.window.toMillis();
        this.maxIds = b.maxIds;
        this.purgeBatchSize = b.purgeBatchSize;
        this.clock = b.clock;
        this.cache = b.cacheSize > 0 ? new IdCache(b.cacheSize) : null;
        try (Connection c = dataSource.getConnection()) {
            this.dialect = b.dialect != null ? b.dialect : SqlDialect.detect(c);
            if (b.createTables) {
                createTables(c);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot open the processed-id store " + ids + ": " + e.getMessage(), e);
        }
        this.insertSql = dialect.onConflict
            ? "INSERT INTO " + ids + " (scope, id, processed_at) VALUES (?, ?, ?) ON CONFLICT (scope, id) DO UPDATE"
                + " SET processed_at = EXCLUDED.processed_at WHERE " + ids + ".processed_at <= ?"
            : "INSERT INTO " + ids + " (scope, id, processed_at) VALUES (?, ?, ?)";
        this.takeOverSql = "UPDATE " + ids + " SET processed_at = ? WHERE scope = ? AND id = ? AND processed_at <= ?";
        this.positionUpsertSql = "INSERT INTO " + positions
            + " (scope, topic, kafka_partition, next_offset, updated_at)"
            + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, topic, kafka_partition) DO UPDATE SET next_offset ="
            + " GREATEST(" + positions + ".next_offset, EXCLUDED.next_offset), updated_at = EXCLUDED.updated_at";
        this.positionUpdateSql = "UPDATE " + positions + " SET next_offset = CASE WHEN next_offset < ? THEN ? ELSE"
            + " next_offset END, updated_at = ? WHERE scope = ? AND topic = ? AND kafka_partition = ?";
        this.positionInsertSql = "INSERT INTO " + positions + " (scope, topic, kafka_partition, next_offset,"
            + " updated_at) VALUES (?, ?, ?, ?, ?)";
        MeterRegistry registry = b.registry;
        this.expiredCounter = Counter.builder("idemlog.consumer.store.purged").tag("table", ids)
            .tag("reason", "expired").description("processed ids deleted because their window ended")
            .register(registry);
        this.evictedCounter = Counter.builder("idemlog.consumer.store.purged").tag("table", ids)
            .tag("reason", "bound").description("processed ids deleted early to keep the table within maxIds")
            .register(registry);
        this.purgeFailureCounter = Counter.builder("idemlog.consumer.store.purge.failures").tag("table", ids)
            .description("purge runs that failed (retried at the next interval)").register(registry);
        this.purgeTimer = Timer.builder("idemlog.consumer.store.purge.duration").tag("table", ids)
            .description("time of one purge run").register(registry);
        if (b.purgeInterval.isZero()) {
            this.purger = null;
        } else {
            this.purger = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "idemlog-purge-" + ids);
                t.setDaemon(true);
                return t;
            });
            long every = b.purgeInterval.toMillis();
            purger.scheduleWithFixedDelay(this::purgeQuietly, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /** A builder over {@code dataSource} (a pool in production; every transaction takes one connection). */
    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /** The dialect in use (detected from the database unless the builder set one). */
    public SqlDialect dialect() {
        return dialect;
    }

    /** The processed-id table's name. */
    public String idsTable() {
        return ids;
    }

    /** The positions table's name. */
    public String positionsTable() {
        return positions;
    }

    @Override
    public JdbcTransaction begin() {
        Connection c;
        try {
            c = dataSource.getConnection();
        } catch (SQLException e) {
            throw new StoreException("cannot get a database connection: " + e.getMessage(), e);
        }
        try {
            if (c.getAutoCommit()) {
                c.setAutoCommit(false);
            }
        } catch (SQLException e) {
            closeQuietly(c);
            throw new StoreException("cannot start a transaction: " + e.getMessage(), e);
        }
        return new JdbcTransaction(c);
    }

    /**
     * The stored positions (next offset to process) of {@code partitions} for {@code scope}; partitions without a
     * stored position are absent from the map.
     *
     * @throws StoreException if the database is unavailable
     */
    public Map<TopicPartition, Long> loadPositions(String scope, Collection<TopicPartition> partitions) {
        Set<TopicPartition> wanted = new HashSet<>(partitions);
        Map<TopicPartition, Long> found = new HashMap<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT topic, kafka_partition, next_offset FROM " + positions
                 + " WHERE scope = ?")) {
            ps.setString(1, scope);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
                    if (wanted.contains(tp) && rs.getLong(3) >= 0) {
                        found.put(tp, rs.getLong(3));
                    }
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read positions of " + scope + ": " + e.getMessage(), e);
        }
        return found;
    }

    /** A partition's position as claimed by one consumer: the next offset (-1: none stored) and the claim's epoch. */
    record Claim(long nextOffset, long epoch) {
    }

    /**
     * Claims {@code partitions} for a new owner (the batched transactional mode, at assignment): in one transaction,
     * in (topic, partition) order, each position row's {@code owner_epoch} goes up by one (a row with
     * {@code next_offset = -1} is created for a partition without one), and the stored position and the new epoch
     * are read back. The update waits for any open transaction that locked the row ({@link
     * JdbcTransaction#lockPosition}: the previous owner's batch), so the position read includes that batch if it
     * commits; and a later batch of the previous owner sees another epoch and must not apply its records.
     *
     * @throws StoreException if the database is unavailable
     */
    Map<TopicPartition, Claim> claimPositions(String scope, Collection<TopicPartition> partitions) {
        List<TopicPartition> sorted = new ArrayList<>(new HashSet<>(partitions));
        sorted.sort(PARTITION_ORDER);
        Map<TopicPartition, Claim> claims = new HashMap<>();
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            long now = clock.millis();
            for (TopicPartition tp : sorted) {
                if (bumpEpoch(c, scope, tp) == 0) {
                    Savepoint sp = c.setSavepoint();
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + positions
                        + " (scope, topic, kafka_partition, next_offset, updated_at, owner_epoch)"
                        + " VALUES (?, ?, ?, -1, ?, 1)")) {
                        ps.setString(1, scope);
                        ps.setString(2, tp.topic());
                        ps.setInt(3, tp.partition());
                        ps.setLong(4, now);
                        ps.executeUpdate();
                    } catch (SQLException e) {
                        if (!SqlDialect.isUniqueViolation(e)) {
                            throw e;
                        }
                        c.rollback(sp); // another claim created it first
                        if (bumpEpoch(c, scope, tp) == 0) {
                            throw new SQLException("position row of " + tp + " neither updatable nor insertable");
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT next_offset, owner_epoch FROM " + positions
                    + " WHERE scope = ? AND topic = ? AND kafka_partition = ?")) {
                    ps.setString(1, scope);
                    ps.setString(2, tp.topic());
                    ps.setInt(3, tp.partition());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new SQLException("position row of " + tp + " vanished");
                        }
                        claims.put(tp, new Claim(rs.getLong(1), rs.getLong(2)));
                    }
                }
            }
            c.commit();
            return claims;
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // a broken connection rolled back already
                }
            }
            throw new StoreException("cannot claim positions of " + scope + ": " + e.getMessage(), e);
        } finally {
            if (c != null) {
                closeQuietly(c);
            }
        }
    }

    private int bumpEpoch(Connection c, String scope, TopicPartition tp) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + positions + " SET owner_epoch = owner_epoch + 1"
            + " WHERE scope = ? AND topic = ? AND kafka_partition = ?")) {
            ps.setString(1, scope);
            ps.setString(2, tp.topic());
            ps.setInt(3, tp.partition());
            return ps.executeUpdate();
        }
    }

    /** The order in which position rows are locked (claims and batches alike), so that two never deadlock. */
    static final java.util.Comparator<TopicPartition> PARTITION_ORDER =
        java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    @Override
    public long purge() {
        long t0 = System.nanoTime();
        long cutoff = clock.millis() - windowMs;
        long deletedExpired = 0;
        long deletedBound = 0;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            deletedExpired = deleteUpTo(c, cutoff);
            expired.addAndGet(deletedExpired);
            expiredCounter.increment(deletedExpired);
            long count = count(c);
            if (count > maxIds) {
                long excess = count - maxIds;
                Long boundCutoff = null;
                try (PreparedStatement ps = c.prepareStatement("SELECT processed_at FROM " + ids
                    + " ORDER BY processed_at OFFSET ? ROWS FETCH FIRST 1 ROWS ONLY")) {
                    ps.setLong(1, excess - 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            boundCutoff = rs.getLong(1);
                        }
                    }
                }
                if (boundCutoff != null) {
                    deletedBound = deleteUpTo(c, boundCutoff);
                    evicted.addAndGet(deletedBound);
                    evictedCounter.increment(deletedBound);
                    if (cache != null) {
                        cache.removeUpTo(boundCutoff); // what the table forgot, the cache forgets
                    }
                }
            }
        } catch (SQLException e) {
            throw new StoreException("purge of " + ids + " failed: " + e.getMessage(), e);
        } finally {
            purgeTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
        return deletedExpired + deletedBound;
    }

    /** Deletes rows with processed_at <= cutoff, one batch (its own transaction) at a time. */
    private long deleteUpTo(Connection c, long cutoff) throws SQLException {
        String sql = switch (dialect) {
            case POSTGRESQL -> "DELETE FROM " + ids + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + ids
                + " WHERE processed_at <= ? LIMIT ?))";
            case H2 -> "DELETE FROM " + ids + " WHERE processed_at <= ? FETCH FIRST ? ROWS ONLY";
            case GENERIC -> "DELETE FROM " + ids + " WHERE processed_at <= ?";
        };
        long total = 0;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            while (true) {
                ps.setLong(1, cutoff);
                if (dialect != SqlDialect.GENERIC) {
                    ps.setInt(2, purgeBatchSize);
                }
                int n = ps.executeUpdate();
                total += n;
                if (dialect == SqlDialect.GENERIC || n < purgeBatchSize) {
                    return total;
                }
            }
        }
    }

    private long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + ids)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void purgeQuietly() {
        try {
            long n = purge();
            if (n > 0) {
                LOG.debug("purged {} processed ids from {}", n, ids);
            }
        } catch (RuntimeException e) {
            purgeFailures.incrementAndGet();
            purgeFailureCounter.increment();
            LOG.warn("purge of {} failed (retried in one interval): {}", ids, e.toString());
        }
    }

    @Override
    public long size() {
        try (Connection c = dataSource.getConnection()) {
            return count(c);
        } catch (SQLException e) {
            throw new StoreException("cannot count " + ids + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Duration window() {
        return window;
    }

    @Override
    public long maxIds() {
        return maxIds;
    }

    /** Ids the purge deleted because their window ended. */
    public long expiredPurged() {
        return expired.get();
    }

    /** Ids the purge deleted early to keep the table within the bound. */
    public long evictions() {
        return evicted.get();
    }

    /** Purge runs of the purge thread that failed. */
    public long purgeFailures() {
        return purgeFailures.get();
    }

    /** Ids in the in-memory cache (0 without one). */
    public int cachedIds() {
        return cache == null ? 0 : cache.size();
    }

    @Override
    public void close() {
        if (purger != null) {
            purger.shutdownNow();
            try {
                purger.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "JdbcProcessedIdStore(" + ids + ", " + dialect + ", window " + window + ", max " + maxIds + ")";
    }

    private void createTables(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        String[] ddl = {
            "CREATE TABLE IF NOT EXISTS " + ids + " (scope VARCHAR(" + Validation.MAX_SCOPE_CHARS + ") NOT NULL, id "
                + dialect.binaryType + " NOT NULL, processed_at BIGINT NOT NULL, PRIMARY KEY (scope, id))",
            "CREATE INDEX IF NOT EXISTS " + ids + "_at ON " + ids + " (processed_at)",
            "CREATE TABLE IF NOT EXISTS " + positions + " (scope VARCHAR(" + Validation.MAX_SCOPE_CHARS
                + ") NOT NULL, topic VARCHAR(255) NOT NULL, kafka_partition INT NOT NULL, next_offset BIGINT NOT NULL,"
                + " updated_at BIGINT NOT NULL, owner_epoch BIGINT DEFAULT 0 NOT NULL,"
                + " PRIMARY KEY (scope, topic, kafka_partition))",
            // tables created before the batched mode's fence had no owner_epoch
            "ALTER TABLE " + positions + " ADD COLUMN IF NOT EXISTS owner_epoch BIGINT DEFAULT 0 NOT NULL"};
        for (String sql : ddl) {
            // several consumers starting at once may race to create the same table (PostgreSQL then reports a
            // unique violation in its catalog): the statement is retried, and IF NOT EXISTS makes it a no-op
            for (int attempt = 1; ; attempt++) {
                try (Statement s = c.createStatement()) {
                    s.execute(sql);
                    break;
                } catch (SQLException e) {
                    if (attempt >= 3 || !SqlDialect.isUniqueViolation(e)) {
                        throw e;
                    }
                }
            }
        }
        c.setAutoCommit(auto);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // the connection is unusable either way
        }
    }

    /**
     * A transaction on one connection: processed ids, the application's statements ({@link #connection()}) and
     * positions ({@link #storePosition}) commit together.
     */
    public final class JdbcTransaction implements StoreTransaction {
        private final Connection connection;
        private final List<CacheKey> seen = new ArrayList<>(1);
        private final List<Long> seenAt = new ArrayList<>(1);
        private boolean ended;

        private JdbcTransaction(Connection connection) {
            this.connection = connection;
        }

        @Override
        public boolean insertIfAbsent(String scope, byte[] id, long nowMs) {
            Validation.check(scope, id);
            checkOpen();
            long cutoff = nowMs - windowMs;
            CacheKey key = cache == null ? null : new CacheKey(scope, id.clone());
            if (key != null && cache.isLive(key, cutoff)) {
                return false;
            }
            boolean fresh;
            try {
                fresh = dialect.onConflict ? insertOnConflict(scope, id, nowMs, cutoff)
                    : insertWithSavepoint(scope, id, nowMs, cutoff);
            } catch (SQLException e) {
                throw new StoreException("insert into " + ids + " failed: " + e.getMessage(), e);
            }
            if (key != null) {
                // either way the row is committed once this transaction commits: ours if fresh, another's if not
                seen.add(key);
                seenAt.add(nowMs);
            }
            return fresh;
        }

        private boolean insertOnConflict(String scope, byte[] id, long nowMs, long cutoff) throws SQLException {
            try (PreparedStatement ps = connection.prepareStatement(insertSql)) {
                ps.setString(1, scope);
                ps.setBytes(2, id);
                ps.setLong(3, nowMs);
                ps.setLong(4, cutoff);
                return ps.executeUpdate() == 1;
            }
        }

        private boolean insertWithSavepoint(String scope, byte[] id, long nowMs, long cutoff) throws SQLException {
            Savepoint sp = connection.setSavepoint();
            try (PreparedStatement ps = connection.prepareStatement(insertSql)) {
                ps.setString(1, scope);
                ps.setBytes(2, id);
                ps.setLong(3, nowMs);
                ps.executeUpdate();
                return true;
            } catch (SQLException e) {
                if (!SqlDialect.isUniqueViolation(e)) {
                    throw e;
                }
                connection.rollback(sp);
            }
            // there is a committed row: it is ours to take over only if it expired
            try (PreparedStatement ps = connection.prepareStatement(takeOverSql)) {
                ps.setLong(1, nowMs);
                ps.setString(2, scope);
                ps.setBytes(3, id);
                ps.setLong(4, cutoff);
                return ps.executeUpdate() == 1;
            }
        }

        /**
         * Records that {@code scope} has processed {@code partition} up to {@code nextOffset} (exclusive), in this
         * transaction. Positions only move forward: a smaller offset than the stored one leaves it as it is (a
         * consumer that lost the partition during a rebalance may still commit an older record).
         */
        public void storePosition(String scope, TopicPartition partition, long nextOffset, long nowMs) {
            checkOpen();
            try {
                if (dialect.onConflict) {
                    try (PreparedStatement ps = connection.prepareStatement(positionUpsertSql)) {
                        ps.setString(1, scope);
                        ps.setString(2, partition.topic());
                        ps.setInt(3, partition.partition());
                        ps.setLong(4, nextOffset);
                        ps.setLong(5, nowMs);
                        ps.executeUpdate();
                    }
                    return;
                }
                for (int attempt = 0; attempt < 2; attempt++) {
                    if (updatePosition(scope, partition, nextOffset, nowMs) == 1) {
                        return;
                    }
                    Savepoint sp = connection.setSavepoint();
                    try (PreparedStatement ps = connection.prepareStatement(positionInsertSql)) {
                        ps.setString(1, scope);
                        ps.setString(2, partition.topic());
                        ps.setInt(3, partition.partition());
                        ps.setLong(4, nextOffset);
                        ps.setLong(5, nowMs);
                        ps.executeUpdate();
                        return;
                    } catch (SQLException e) {
                        if (!SqlDialect.isUniqueViolation(e)) {
                            throw e;
                        }
                        connection.rollback(sp); // another transaction inserted it first: update that row
                    }
                }
                throw new SQLException("position row of " + partition + " neither updatable nor insertable");
            } catch (SQLException e) {
                throw new StoreException("cannot store the position of " + partition + ": " + e.getMessage(), e);
            }
        }

        private int updatePosition(String scope, TopicPartition partition, long nextOffset, long nowMs)
            throws SQLException {
            try (PreparedStatement ps = connection.prepareStatement(positionUpdateSql)) {
                ps.setLong(1, nextOffset);
                ps.setLong(2, nextOffset);
                ps.setLong(3, nowMs);
                ps.setString(4, scope);
                ps.setString(5, partition.topic());
                ps.setInt(6, partition.partition());
                return ps.executeUpdate();
            }
        }

        /**
         * Locks the position row of {@code partition} until this transaction ends and returns its owner epoch (-1
         * without a row): the batched mode's fence against a new owner's {@link #claimPositions claim}.
         *
         * @throws StoreException if the database fails (a lock wait timeout or deadlock included)
         */
        long lockPosition(String scope, TopicPartition partition) {
            checkOpen();
            try (PreparedStatement ps = connection.prepareStatement("SELECT owner_epoch FROM " + positions
                + " WHERE scope = ? AND topic = ? AND kafka_partition = ? FOR UPDATE")) {
                ps.setString(1, scope);
                ps.setString(2, partition.topic());
                ps.setInt(3, partition.partition());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : -1;
                }
            } catch (SQLException e) {
                throw new StoreException("cannot lock the position of " + partition + ": " + e.getMessage(), e);
            }
        }

        /** The transaction's connection, for the handler's statements (no commit, rollback or close). */
        public Connection connection() {
            checkOpen();
            return connection;
        }

        /** Whether the connection is gone (the database or the network failed), as opposed to a statement error. */
        public boolean connectionBroken() {
            try {
                return connection.isClosed() || !connection.isValid(2);
            } catch (SQLException e) {
                return true;
            }
        }

        @Override
        public void commit() {
            checkOpen();
            ended = true;
            try {
                connection.commit();
            } catch (SQLException e) {
                rollbackQuietly();
                closeQuietly(connection);
                throw new StoreException("commit failed: " + e.getMessage(), e);
            }
            closeQuietly(connection);
            if (cache != null) {
                for (int i = 0; i < seen.size(); i++) {
                    cache.put(seen.get(i), seenAt.get(i));
                }
            }
        }

        @Override
        public void rollback() {
            if (ended) {
                return;
            }
            ended = true;
            rollbackQuietly();
            closeQuietly(connection);
        }

        private void rollbackQuietly() {
            try {
                connection.rollback();
            } catch (SQLException e) {
                // a broken connection: the database rolled the transaction back when it went
            }
        }

        @Override
        public void close() {
            rollback();
        }

        private void checkOpen() {
            if (ended) {
                throw new IllegalStateException("transaction already ended");
            }
        }
    }

    private record CacheKey(String scope, byte[] id) {
        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey k && k.scope.equals(scope) && Arrays.equals(k.id, id);
        }

        @Override
        public int hashCode() {
            return 31 * scope.hashCode() + Arrays.hashCode(id);
        }

        @Override
        public String toString() {
            return scope + "/" + Arrays.toString(id);
        }
    }

    /** Committed ids, LRU; the value is the insert time. Thread-safe through its monitor. */
    private static final class IdCache {
        private final LinkedHashMap<CacheKey, Long> map;

        IdCache(int capacity) {
            this.map = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<CacheKey, Long> eldest) {
                    return size() > capacity;
                }
            };
        }

        synchronized boolean isLive(CacheKey key, long cutoff) {
            Long at = map.get(key);
            if (at == null) {
                return false;
            }
            if (at <= cutoff) {
                map.remove(key);
                return false;
            }
            return true;
        }

        synchronized void put(CacheKey key, long at) {
            map.merge(key, at, Math::max);
        }

        synchronized int size() {
            return map.size();
        }

        synchronized void removeUpTo(long cutoff) {
            map.values().removeIf(at -> at <= cutoff);
        }
    }

    /** Configuration of a {@link JdbcProcessedIdStore}. */
    public static final class Builder {
        private final DataSource dataSource;
        private SqlDialect dialect;
        private String tablePrefix = "idemlog_";
        private boolean createTables = true;
        private Duration window = Duration.ofHours(24);
        private long maxIds = 10_000_000;
        private int cacheSize;
        private Duration purgeInterval = Duration.ofMinutes(1);
        private int purgeBatchSize = 10_000;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry registry = Metrics.globalRegistry;

        private Builder(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        }

        /** The database's dialect (default: detected from its product name; GENERIC for unknown databases). */
        public Builder dialect(SqlDialect dialect) {
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            return this;
        }

        /** Prefix of the two table names (default {@code idemlog_}); letters, digits and underscores. */
        public Builder tablePrefix(String prefix) {
            if (!prefix.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("table prefix must be an SQL identifier: " + prefix);
            }
            this.tablePrefix = prefix;
            return this;
        }

        /** Whether {@code build()} creates the tables and index if they are missing (default true). */
        public Builder createTables(boolean create) {
            this.createTables = create;
            return this;
        }

        /** How long an id is remembered after its insert (default 24 hours). */
        public Builder window(Duration window) {
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("window must be positive: " + window);
            }
            this.window = window;
            return this;
        }

        /** The bound on stored ids that the purge enforces, oldest deleted first (default 10,000,000). */
        public Builder maxIds(long maxIds) {
            if (maxIds < 1) {
                throw new IllegalArgumentException("maxIds must be at least 1: " + maxIds);
            }
            this.maxIds = maxIds;
            return this;
        }

        /** Committed ids kept in memory to answer duplicates without a round trip (default 0: no cache). */
        public Builder cacheSize(int entries) {
            if (entries < 0) {
                throw new IllegalArgumentException("cache size must not be negative: " + entries);
            }
            this.cacheSize = entries;
            return this;
        }

        /** How often the purge thread runs (default 1 minute; {@link Duration#ZERO}: no thread, call purge()). */
        public Builder purgeInterval(Duration interval) {
            if (interval.isNegative()) {
                throw new IllegalArgumentException("purge interval must not be negative: " + interval);
            }
            this.purgeInterval = interval;
            return this;
        }

        /** Rows deleted per purge transaction (default 10,000). */
        public Builder purgeBatchSize(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("purge batch size must be at least 1: " + rows);
            }
            this.purgeBatchSize = rows;
            return this;
        }

        /** The clock the purge compares insert times with (default the system's). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where the store's meters go (default Micrometer's global registry). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * The store; creates the tables unless told not to.
         *
         * @throws StoreException if the database cannot be reached or the tables cannot be created
         */
        public JdbcProcessedIdStore build() {
            return new JdbcProcessedIdStore(this);
        }
    }
}
