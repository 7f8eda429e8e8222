package io.idemlog.consumer;

/** The store contract on H2 with the in-memory cache of committed ids in front. */
class H2CachedProcessedIdStoreTest extends H2ProcessedIdStoreTest {
    @Override
    protected int cacheSize() {
        return 1_000;
    }
}
