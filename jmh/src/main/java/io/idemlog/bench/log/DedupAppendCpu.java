package io.idemlog.bench.log;

import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.log.AppendResult;
import io.idemlog.server.log.FlushDuty;
import io.idemlog.server.log.LogConfig;
import io.idemlog.server.log.LogManager;
import io.idemlog.server.log.Partition;
import org.agrona.concurrent.SystemEpochClock;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The server-side CPU cost of de-duplication keys per record, without the network, the client or the JIT's warm-up
 * in the figure: one thread appends the same kind of batch as the e2e dedup-cost benchmark (480 records of 100-byte
 * values, each with a unique 16-byte key, 8-byte nonce + 8-byte counter, in header {@code dedup-id}) to two
 * partitions of one {@link LogManager}: topic {@code on} has {@code dedup.header=dedup-id}, topic {@code off} not.
 * Both are first filled with {@code fill} records (the on side's window reaches its default 1,000,000-key bound, so
 * every measured key also evicts one); then {@code trials} rounds, sides alternating, of {@code records} records
 * each, timed by the appending thread's CPU time around {@link Partition#append} only (writing the next keys and the
 * batch CRC, as a producer would, is outside the timed part). acks=1-style: the flusher thread makes the appends
 * durable (not timed, the same on both sides). Prints min and median ns per record per side and their ratio.
 *
 * <p>Run: {@code java -cp jmh/target/benchmarks.jar io.idemlog.bench.log.DedupAppendCpu [records] [trials] [fill]}
 * (defaults 240,000, 9 and 1,200,000); {@code -Didemlog.bench.dir=DIR} for the data directory (default
 * {@code jmh/target}; removed at the end).
 */
public final class DedupAppendCpu {
    static final int RECORDS_PER_BATCH = 480;
    static final int VALUE_BYTES = 100;
    static final long NONCE = 0x6964656D6C6F6721L;

    private final ByteBuffer batch;
    private final int[] counterAt;
    private long counter;

    private DedupAppendCpu() {
        SplittableRandom random = new SplittableRandom(11);
        int capacity = RecordBatch.HEADER_SIZE + RECORDS_PER_BATCH * 200;
        ByteBuffer scratch = ByteBuffer.allocate(capacity);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(scratch, 0, capacity);
        byte[] value = new byte[VALUE_BYTES];
        for (int i = 0; i < RECORDS_PER_BATCH; i++) {
            for (int b = 0; b < VALUE_BYTES; b++) {
                value[b] = (byte) random.nextInt(256);
            }
            byte[] key = ByteBuffer.allocate(16).putLong(NONCE).putLong(i).array();
            if (!builder.tryAppend(1_700_000_000_000L + i, null, value, new Header[] {new Header("dedup-id", key)})) {
                throw new IllegalStateException("record " + i + " does not fit");
            }
        }
        int size = builder.close();
        batch = ByteBuffer.allocateDirect(size);
        batch.put(0, scratch, 0, size);
        counterAt = new int[RECORDS_PER_BATCH];
        int found = 0;
        for (int p = RecordBatch.RECORDS_OFFSET; p + 16 <= size && found < RECORDS_PER_BATCH; p++) {
            if (batch.getLong(p) == NONCE && batch.getLong(p + 8) == found) {
                counterAt[found++] = p + 8;
                p += 15;
            }
        }
        if (found != RECORDS_PER_BATCH) {
            throw new IllegalStateException("found " + found + " keys in the fixture batch");
        }
    }

    /** Gives every record of the batch a new key (and the batch its CRC), as the next batch of a producer. */
    private void nextKeys() {
        for (int at : counterAt) {
            batch.putLong(at, counter++);
        }
        new RecordBatch(batch, 0).updateCrc();
    }

    /** Appends {@code records} records (whole batches) to {@code p}; returns the CPU ns of the append calls. */
    private long append(Partition p, int records, ThreadMXBean threads) {
        long cpu = 0;
        for (int done = 0; done < records; done += RECORDS_PER_BATCH) {
            nextKeys();
            long start = threads.getCurrentThreadCpuTime();
            AppendResult r = p.append(batch, 0, batch.limit(), FlushDuty.FLUSHER);
            cpu += threads.getCurrentThreadCpuTime() - start;
            if (r.error() != ErrorCode.NONE || r.repeats() != null) {
                throw new IllegalStateException("append: " + r);
            }
        }
        return cpu;
    }

    public static void main(String[] args) throws IOException {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 240_000;
        int trials = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        int fill = args.length > 2 ? Integer.parseInt(args[2]) : 1_200_000;
        Path parent = Paths.get(System.getProperty("idemlog.bench.dir", "jmh/target"));
        Files.createDirectories(parent);
        Path dir = Files.createTempDirectory(parent.toAbsolutePath(), "idemlog-bench-dedup");
        LogManager store = LogManager.open(dir, LogConfig.defaults(), SystemEpochClock.INSTANCE, (p, hw) -> { });
        try {
            store.createTopic("on", 1, Map.of("dedup.header", "dedup-id"), false);
            store.createTopic("off", 1, Map.of(), false);
            Partition on = store.partition("on", 0);
            Partition off = store.partition("off", 0);
            DedupAppendCpu bench = new DedupAppendCpu();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            bench.append(on, fill, threads);
            bench.append(off, fill, threads);
            double[] onNs = new double[trials];
            double[] offNs = new double[trials];
            double[] ratio = new double[trials];
            int perTrial = (records + RECORDS_PER_BATCH - 1) / RECORDS_PER_BATCH * RECORDS_PER_BATCH;
            for (int t = 0; t < trials; t++) {
                if (t % 2 == 0) {
                    onNs[t] = bench.append(on, perTrial, threads) / (double) perTrial;
                    offNs[t] = bench.append(off, perTrial, threads) / (double) perTrial;
                } else {
                    offNs[t] = bench.append(off, perTrial, threads) / (double) perTrial;
                    onNs[t] = bench.append(on, perTrial, threads) / (double) perTrial;
                }
                ratio[t] = onNs[t] / offNs[t];
                System.out.printf("DedupAppendCpu trial %d: on %.1f ns/record, off %.1f ns/record, on/off %.3f%n",
                    t + 1, onNs[t], offNs[t], ratio[t]);
            }
            Arrays.sort(onNs);
            Arrays.sort(offNs);
            Arrays.sort(ratio);
            System.out.printf("DedupAppendCpu %,d records x %d trials, %d records per batch, 100 B values, a unique"
                    + " 16 B key each: on min %.1f median %.1f ns/record; off min %.1f median %.1f ns/record;"
                    + " on/off median %.3f [%.3f-%.3f]; extra per record (median on - median off) %.1f ns%n",
                perTrial, trials, RECORDS_PER_BATCH, onNs[0], onNs[trials / 2], offNs[0], offNs[trials / 2],
                ratio[trials / 2], ratio[0], ratio[trials - 1], onNs[trials / 2] - offNs[trials / 2]);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            store.close();
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        }
    }
}
