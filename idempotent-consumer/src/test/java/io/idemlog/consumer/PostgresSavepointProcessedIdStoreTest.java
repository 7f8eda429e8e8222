package io.idemlog.consumer;

/** The store contract on PostgreSQL with the portable savepoint dialect: it works there too. */
class PostgresSavepointProcessedIdStoreTest extends PostgresProcessedIdStoreTest {
    @Override
    protected SqlDialect dialect() {
        return SqlDialect.GENERIC;
    }
}
