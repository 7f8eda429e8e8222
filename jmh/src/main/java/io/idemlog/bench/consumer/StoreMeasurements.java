package io.idemlog.bench.consumer;

import io.idemlog.consumer.JdbcProcessedIdStore;
import io.idemlog.consumer.MemoryProcessedIdStore;
import io.idemlog.consumer.StoreTransaction;
import io.idemlog.testkit.EmbeddedPostgres;
import io.idemlog.testkit.SimpleConnectionPool;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two measurements of the processed-id stores (a main, not JMH: each is a whole-store effect, not a hot loop):
 * <ol>
 *   <li>heap per id of {@link MemoryProcessedIdStore}: used heap after GC before and after committing N ids of
 *       16 bytes (the size of a UUID's bytes);</li>
 *   <li>whether the JDBC purge blocks processing: the rate of insert + commit transactions on PostgreSQL while the
 *       purge deletes a large backlog of expired ids on its own thread, against the rate with no purge running,
 *       alternating rounds in one run; plus the table size before and after (the bound).</li>
 * </ol>
 * {@code java -cp <jmh class path> io.idemlog.bench.consumer.StoreMeasurements [ids] [expiredRows] [inserts]}.
 */
public final class StoreMeasurements {
    private StoreMeasurements() {
    }

    public static void main(String[] args) throws Exception {
        int ids = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int expiredRows = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int inserts = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        memoryHeap(ids);
        purgeWhileProcessing(expiredRows, inserts);
    }

    private static long usedAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100); // let the collector finish; a measurement, not synchronisation
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    private static void memoryHeap(int ids) throws InterruptedException {
        MemoryProcessedIdStore store = MemoryProcessedIdStore.builder().maxIds(ids).build();
        long before = usedAfterGc();
        long now = System.currentTimeMillis();
        for (int i = 0; i < ids; i++) {
            try (StoreTransaction tx = store.begin()) {
                tx.insertIfAbsent("app", ByteBuffer.allocate(16).putLong(i).putLong(~i).array(), now);
                tx.commit();
            }
        }
        long after = usedAfterGc();
        System.out.printf("memory store: %d ids of 16 bytes, %.1f bytes of heap per id (size %d)%n", ids,
            (after - before) / (double) ids, store.size());
    }

    private static void purgeWhileProcessing(int expiredRows, int inserts) throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
             SimpleConnectionPool db = SimpleConnectionPool.of(pg.createDatabase("purge"), "postgres", 4)) {
            long window = Duration.ofMinutes(10).toMillis();
            AtomicLong clockMs = new AtomicLong(System.currentTimeMillis());
            Clock clock = new Clock() {
                public long millis() {
                    return clockMs.get();
                }

                public java.time.Instant instant() {
                    return java.time.Instant.ofEpochMilli(millis());
                }

                public java.time.ZoneId getZone() {
                    return java.time.ZoneOffset.UTC;
                }

                public Clock withZone(java.time.ZoneId zone) {
                    throw new UnsupportedOperationException();
                }
            };
            JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(db).window(Duration.ofMillis(window))
                .maxIds(expiredRows).purgeInterval(Duration.ZERO).clock(clock).build();
            for (int round = 0; round < 2; round++) {
                for (boolean purging : new boolean[]{true, false}) {
                    // a backlog of expired ids (older than the window), as after a day of traffic
                    try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                        s.execute("TRUNCATE idemlog_processed_ids");
                        s.execute("INSERT INTO idemlog_processed_ids SELECT 'app', int8send(g), "
                            + (clockMs.get() - 2 * window) + " FROM generate_series(1, " + expiredRows + ") g");
                        s.execute("VACUUM ANALYZE idemlog_processed_ids");
                    }
                    Thread purge = null;
                    AtomicLong purged = new AtomicLong();
                    long purgeStart = System.nanoTime();
                    AtomicLong purgeNanos = new AtomicLong();
                    if (purging) {
                        purge = new Thread(() -> {
                            purged.set(store.purge());
                            purgeNanos.set(System.nanoTime() - purgeStart);
                        }, "purge");
                        purge.start();
                    }
                    long t0 = System.nanoTime();
                    for (int i = 0; i < inserts; i++) {
                        try (StoreTransaction tx = store.begin()) {
                            tx.insertIfAbsent("app", ByteBuffer.allocate(12).putInt(round).putLong(i).array(),
                                clockMs.get());
                            tx.commit();
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    if (purge != null) {
                        purge.join();
                    }
                    System.out.printf("round %d, purge %s: %d insert+commit transactions in %.2f s = %.0f/s%s%n",
                        round, purging ? "running" : "idle   ", inserts, seconds, inserts / seconds,
                        purging ? String.format(" (the purge deleted %d expired ids in %.1f s, in batches of 10,000;"
                            + " table now %d)", purged.get(), purgeNanos.get() / 1e9, store.size()) : "");
                }
            }
            // the bound: more live ids than maxIds, one purge
            try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                s.execute("TRUNCATE idemlog_processed_ids");
                s.execute("INSERT INTO idemlog_processed_ids SELECT 'app', int8send(g), " + clockMs.get()
                    + " - g FROM generate_series(1, " + (expiredRows + expiredRows / 10) + ") g");
            }
            long before = store.size();
            long t0 = System.nanoTime();
            store.purge();
            System.out.printf("bound %d: %d live ids, after one purge %d (%d evicted, oldest first) in %.1f s%n",
                expiredRows, before, store.size(), store.evictions(), (System.nanoTime() - t0) / 1e9);
            store.close();
        }
    }
}
