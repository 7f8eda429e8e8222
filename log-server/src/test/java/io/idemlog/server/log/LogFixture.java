package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.agrona.concurrent.CachedEpochClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A store in a temporary directory with threads driven by the test ({@link LogManager.Threads#MANUAL}), an injected
 * clock, a recording high watermark listener and fault-injecting I/O. Reopens after a clean close or a crash.
 */
final class LogFixture implements AutoCloseable {
    static final String TOPIC = "events";

    final Path dataDir;
    final CachedEpochClock clock = new CachedEpochClock();
    final FaultyIo io = new FaultyIo();
    final List<long[]> highWatermarks = new CopyOnWriteArrayList<>();
    LogConfig config;
    LogManager store;

    LogFixture(Path dataDir, TestConfig config) throws IOException {
        this.dataDir = dataDir;
        this.config = config.build();
        clock.update(1_700_000_000_000L);
        open();
        store.createTopic(TOPIC, 1);
    }

    LogFixture open() throws IOException {
        store = LogManager.open(dataDir, config, clock, (p, hw) -> highWatermarks.add(new long[] {p.index(), hw}),
            io, LogManager.Threads.MANUAL);
        return this;
    }

    /** Clean close, then open again. */
    LogFixture reopen() throws IOException {
        store.close();
        return open();
    }

    /** No close: files stay as a kill -9 leaves them (page cache included). Then open again. */
    LogFixture crashAndReopen() throws IOException {
        store.abandon();
        return open();
    }

    PartitionLog partition() {
        return store.partitionLog(TOPIC, 0);
    }

    Path partitionDir() {
        return dataDir.resolve("topics").resolve(TOPIC + "-0");
    }

    AppendResult append(ByteBuffer batch) {
        return partition().append(batch, 0, batch.limit());
    }

    /** Appends and asserts the batch was appended (not a duplicate, no error). */
    AppendResult appendOk(ByteBuffer batch) {
        AppendResult result = append(batch);
        assertEquals(ErrorCode.NONE, result.error(), result.errorMessage());
        assertEquals(false, result.duplicate());
        return result;
    }

    /** Appends and makes it durable. */
    AppendResult appendDurable(ByteBuffer batch) {
        AppendResult result = appendOk(batch);
        store.flushOnce();
        return result;
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
