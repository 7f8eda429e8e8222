package io.idemlog.client;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * send() allocates nothing per record on the caller's thread when the caller asks for no future (a shared callback):
 * only per-batch objects, amortised over hundreds of records. Counted with the JVM's per-thread allocation counter.
 */
class AllocationTest {
    @ParameterizedTest(name = "compression.type={0}")
    @ValueSource(strings = {"none", "lz4", "zstd", "gzip", "snappy"})
    void shouldNotAllocatePerRecordOnTheSendPath(String compression) throws Exception {
        com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        AtomicLong acked = new AtomicLong();
        Callback shared = (md, e) -> {
            if (e == null) {
                acked.incrementAndGet();
            }
        };
        byte[] value = new byte[100];
        byte[] key = new byte[8];
        try (StallingServer server = new StallingServer(StallingServer.Mode.ACK_PRODUCE, "t", 4);
             IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
                 .bootstrapServers(server.bootstrap())
                 // room for every measured record: a send() that waits for buffer memory allocates the lock's wait
                 // node, which is not what this test measures (seen on a loaded machine: 15.7 B/record)
                 .bufferMemory(512L << 20)
                 // a batch that fills up is sealed, and so compressed, on this thread: counted here too
                 .compressionType(compression).build())) {
            int warmup = 200_000;
            int rounds = 5;
            int perRound = 40_000;
            for (int i = 0; i < warmup; i++) {
                key[0] = (byte) i;
                producer.send("t", i % 2 == 0 ? key : null, value, shared);
            }
            producer.flush();
            // The least of several rounds: an object allocated per record shows in every round, while what a
            // contended lock allocates for its wait queue (the I/O thread holds the partition's lock while it
            // drains) comes and goes with the machine's load (seen: 1-3 B/record alone, 15 B on a loaded machine).
            double perRecord = Double.MAX_VALUE;
            for (int r = 0; r < rounds; r++) {
                long before = threads.getThreadAllocatedBytes(me);
                for (int i = 0; i < perRound; i++) {
                    key[0] = (byte) i;
                    producer.send("t", i % 2 == 0 ? key : null, value, shared);
                }
                long after = threads.getThreadAllocatedBytes(me);
                perRecord = Math.min(perRecord, (after - before) / (double) perRound);
                producer.flush();
            }
            int measured = rounds * perRound;
            System.out.printf("send() with compression.type=%s: %.2f bytes allocated per record on the caller's "
                + "thread (least of %d rounds)%n", compression, perRecord, rounds);
            assertTrue(perRecord < 12, "an object per record would be >= 16 bytes; got " + perRecord);
            assertEquals(warmup + measured, acked.get());
        }
    }
}
