package io.idemlog.consumer;

/** The store contract on PostgreSQL with the in-memory cache of committed ids in front. */
class PostgresCachedProcessedIdStoreTest extends PostgresProcessedIdStoreTest {
    @Override
    protected int cacheSize() {
        return 1_000;
    }
}
