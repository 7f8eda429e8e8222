package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8 defect 9 through a real partition: a storm of one-batch producer ids larger than the partition's producer
 * bound does not strip idempotence from producers that are writing; also after a clean restart (snapshot) and a
 * crash (replay of the log), since the segmented LRU is rebuilt by the same updates. The table-level control
 * (plain LRU forgets them) is in ProducerStateTableContract.
 */
class ProducerStormTest {
    private static final int ACTIVE = 20;

    @TempDir
    Path dir;

    @Test
    void activeProducersRetriesAreDuplicatesAfterAStormAndAfterRestarts() throws IOException {
        TestConfig config = new TestConfig();
        config.maxProducersPerPartition = 1_000;
        try (LogFixture log = new LogFixture(dir, config)) {
            long[] lastBase = new long[ACTIVE];
            for (int seq = 0; seq < 3; seq++) {
                for (int pid = 0; pid < ACTIVE; pid++) {
                    lastBase[pid] = log.appendOk(Batches.idempotent(pid, 0, seq, 1)).baseOffset();
                }
            }
            for (long pid = 10_000; pid < 12_000; pid++) {
                log.appendOk(Batches.idempotent(pid, 0, 0, 1));
            }
            log.store.flushOnce();
            assertTrue(log.partition().producerEvictions() >= 1_000, "the storm overflowed the bound");
            assertRetriesAreDuplicates(log, lastBase);
            log.reopen();
            assertRetriesAreDuplicates(log, lastBase);
            log.crashAndReopen();
            assertRetriesAreDuplicates(log, lastBase);
        }
    }

    private static void assertRetriesAreDuplicates(LogFixture log, long[] lastBase) {
        for (int pid = 0; pid < ACTIVE; pid++) {
            AppendResult r = log.append(Batches.idempotent(pid, 0, 2, 1));
            assertEquals(ErrorCode.NONE, r.error(), r.errorMessage());
            assertTrue(r.duplicate(), "producer " + pid + "'s retry must not be appended twice");
            assertEquals(lastBase[pid], r.baseOffset());
        }
    }
}
