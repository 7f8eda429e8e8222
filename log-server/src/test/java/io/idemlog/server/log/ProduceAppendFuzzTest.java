package io.idemlog.server.log;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.RecordBatch;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The server's whole batch-validation and append path under fuzzing: {@link PartitionLog#append} of arbitrary
 * produced bytes into a real partition (files in a temporary directory). The first input byte says whether the
 * harness repairs the CRC of a batch whose only fault is its CRC, so that mutations get past the checksum to the
 * producer-state check and the record walk. Invariants: append never throws; an accepted batch is served back, and
 * everything the partition serves is whole valid batches at the offsets asked for.
 */
class ProduceAppendFuzzTest {
    /** A fresh partition every this many inputs, so that a long run does not fill the disk. */
    private static final int APPENDS_PER_LOG = 2_000;

    private static Path dir;
    private static LogFixture log;
    private static int appends;

    private static LogFixture log() throws IOException {
        if (log == null || appends >= APPENDS_PER_LOG) {
            closeLog();
            dir = Files.createTempDirectory("idemlog-fuzz-append");
            TestConfig config = new TestConfig();
            config.maxProducersPerPartition = 100;
            config.segmentBytes = 64 * 1024;
            log = new LogFixture(dir, config);
            appends = 0;
        }
        return log;
    }

    @AfterAll
    static void closeLog() throws IOException {
        if (log != null) {
            log.close();
            log = null;
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @FuzzTest(maxDuration = "10m")
    void append(byte[] input) throws IOException {
        if (input.length < 1) {
            return;
        }
        LogFixture fixture = log();
        appends++;
        ByteBuffer buf = ByteBuffer.allocateDirect(input.length - 1);
        buf.put(input, 1, input.length - 1).flip();
        if ((input[0] & 1) != 0 && buf.limit() >= RecordBatch.HEADER_SIZE) {
            RecordBatch b = new RecordBatch(buf, 0);
            if (b.validate(buf.limit(), Integer.MAX_VALUE) == RecordBatch.Validation.BAD_CRC) {
                b.updateCrc();
            }
        }
        AppendResult result = fixture.append(buf);
        if (result.error() == ErrorCode.NONE && !result.duplicate()) {
            fixture.store.flushOnce();
            ServedBatches.assertOnlyValidBatches(fixture.partition());
        }
    }
}
