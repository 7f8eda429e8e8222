package io.idemlog.server.state;

import io.idemlog.common.record.Sequences;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random histories (in-order batches, retries inside and outside the window, gaps, epoch bumps, zombies with
 * old epochs, invalid sequences, sequences crossing Integer.MAX_VALUE, eviction pressure, expiry) fed to the slab
 * table and to the reference table: every answer, duplicate offset, size, eviction count and the whole content must
 * be the same. A failure names its seed; rerun one with -Didemlog.seed=N.
 */
class ProducerStateTablesAgreeTest {
    private static final int STEPS = 20_000;
    private static final int SEEDS = 25;

    /** What a simulated producer knows of itself. */
    private static final class Client {
        int epoch;
        int nextSequence;
        final List<int[]> sent = new ArrayList<>(); // {epoch, firstSeq, records}
    }

    @Test
    void slabAndReferenceTablesGiveTheSameAnswersOnRandomHistories() {
        String fixed = System.getProperty("idemlog.seed");
        if (fixed != null) {
            run(Long.parseLong(fixed));
            return;
        }
        long base = System.nanoTime();
        for (int i = 0; i < SEEDS; i++) {
            run(base + i);
        }
    }

    private static void run(long seed) {
        try {
            simulate(seed);
        } catch (AssertionError e) {
            fail("histories diverged with seed " + seed + " (rerun with -Didemlog.seed=" + seed + ")", e);
        }
    }

    private static void simulate(long seed) {
        Random random = new Random(seed);
        int maxProducers = 2 + random.nextInt(random.nextBoolean() ? 10 : 40);
        long expirationMs = 1_000 + random.nextInt(5_000);
        int pool = maxProducers + 1 + random.nextInt(8);
        EvictionPolicy policy = random.nextInt(4) == 0 ? EvictionPolicy.LRU : EvictionPolicy.SEGMENTED_LRU;
        SlabProducerStateTable slab = new SlabProducerStateTable(maxProducers, expirationMs, policy);
        ReferenceProducerStateTable reference = new ReferenceProducerStateTable(maxProducers, expirationMs, policy);
        Client[] clients = new Client[pool];
        for (int i = 0; i < pool; i++) {
            clients[i] = new Client();
            // some producers start close to the wrap-around
            clients[i].nextSequence = random.nextInt(4) == 0 ? Integer.MAX_VALUE - random.nextInt(20) : 0;
        }
        long now = 1_000_000L;
        long logEnd = 0L;
        for (int step = 0; step < STEPS; step++) {
            int action = random.nextInt(100);
            if (action < 5) {
                now += random.nextInt((int) expirationMs);
                assertEquals(reference.removeExpired(now), slab.removeExpired(now), "expired at step " + step);
                continue;
            }
            if (action < 8) {
                // what recovery does: record a batch without checking it (any sequence, the current epoch)
                long pid = random.nextInt(pool);
                int epoch = clients[(int) pid].epoch;
                int firstSeq = random.nextInt(4) == 0 ? clients[(int) pid].nextSequence : random.nextInt(40);
                int records = 1 + random.nextInt(5);
                reference.update(pid, (short) epoch, firstSeq, records - 1, logEnd, now);
                slab.update(pid, (short) epoch, firstSeq, records - 1, logEnd, now);
                logEnd += records;
                clients[(int) pid].nextSequence = Sequences.next(Sequences.lastSequence(firstSeq, records - 1));
                clients[(int) pid].sent.add(new int[] {epoch, firstSeq, records});
                continue;
            }
            now += random.nextInt(3);
            int pidIndex = random.nextInt(pool);
            Client client = clients[pidIndex];
            long pid = pidIndex;
            int epoch = client.epoch;
            int firstSeq;
            int records = 1 + random.nextInt(5);
            if (action < 55) {
                firstSeq = client.nextSequence;
            } else if (action < 72 && !client.sent.isEmpty()) {
                int[] old = client.sent.get(client.sent.size() - 1 - random.nextInt(Math.min(8, client.sent.size())));
                epoch = old[0];
                firstSeq = old[1];
                records = old[2];
            } else if (action < 80) {
                firstSeq = Sequences.increment(client.nextSequence, 1 + random.nextInt(3));
            } else if (action < 87) {
                epoch = client.epoch + 1;
                firstSeq = random.nextInt(5) == 0 ? 1 + random.nextInt(3) : 0;
            } else if (action < 92) {
                epoch = Math.max(0, client.epoch - 1 - random.nextInt(2));
                firstSeq = random.nextInt(10);
            } else if (action < 95) {
                firstSeq = -1 - random.nextInt(100);
            } else if (action < 98) {
                pid = -1L;
                firstSeq = -1;
            } else {
                pid = -2L - random.nextInt(5);
                firstSeq = 0;
            }
            SequenceOutcome expected = reference.check(pid, (short) epoch, firstSeq, records - 1);
            SequenceOutcome actual = slab.check(pid, (short) epoch, firstSeq, records - 1);
            assertEquals(expected, actual, "step " + step + ": pid " + pid + " epoch " + epoch + " seq " + firstSeq);
            if (expected == SequenceOutcome.DUPLICATE) {
                assertEquals(reference.duplicateFirstOffset(), slab.duplicateFirstOffset(), "step " + step);
                assertEquals(reference.duplicateLastOffset(), slab.duplicateLastOffset(), "step " + step);
            }
            if (expected.appends()) {
                reference.update(pid, (short) epoch, firstSeq, records - 1, logEnd, now);
                slab.update(pid, (short) epoch, firstSeq, records - 1, logEnd, now);
                logEnd += records;
                if (pid >= 0) {
                    client.epoch = epoch;
                    client.nextSequence = Sequences.next(Sequences.lastSequence(firstSeq, records - 1));
                    client.sent.add(new int[] {epoch, firstSeq, records});
                }
            }
            assertEquals(reference.size(), slab.size(), "size at step " + step);
            assertEquals(reference.evictions(), slab.evictions(), "evictions at step " + step);
            if (step % 1000 == 0) {
                assertEquals(ProducerStateTableContract.dump(reference), ProducerStateTableContract.dump(slab),
                    "content at step " + step);
            }
        }
        assertEquals(ProducerStateTableContract.dump(reference), ProducerStateTableContract.dump(slab));
    }
}
