package io.idemlog.server.state;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The behaviour every {@link ProducerStateTable} must have: one test per row of IDEMPOTENCE.md's validation list,
 * plus the window, wrap-around, LRU, expiry and visiting rules. Run against each implementation by a subclass.
 */
abstract class ProducerStateTableContract {
    static final long EXPIRATION_MS = 60_000L;
    static final long T0 = 1_000_000L;

    abstract ProducerStateTable newTable(int maxProducers, long expirationMs);

    abstract ProducerStateTable newTable(int maxProducers, long expirationMs, EvictionPolicy policy);

    ProducerStateTable newTable() {
        return newTable(1000, EXPIRATION_MS);
    }

    /** Checks a batch and, when it is to be appended, records it at {@code offset} as the partition would. */
    static SequenceOutcome append(ProducerStateTable table, long pid, int epoch, int firstSeq, int records,
                                  long offset, long nowMs) {
        SequenceOutcome outcome = table.check(pid, (short) epoch, firstSeq, records - 1);
        if (outcome == SequenceOutcome.ACCEPT) {
            table.update(pid, (short) epoch, firstSeq, records - 1, offset, nowMs);
        }
        return outcome;
    }

    // ---- IDEMPOTENCE.md, "Validating a produced batch", row by row ----

    @Test
    void row1ProducerIdMinusOneIsNotIdempotentAndKeepsNoState() {
        ProducerStateTable table = newTable();
        assertEquals(SequenceOutcome.NOT_IDEMPOTENT, table.check(-1L, (short) -1, -1, 0));
        assertEquals(SequenceOutcome.NOT_IDEMPOTENT, table.check(-1L, (short) 5, 17, 3));
        table.update(-1L, (short) -1, -1, 0, 0L, T0);
        assertEquals(0, table.size());
    }

    @Test
    void row1ProducerIdBelowMinusOneIsAnInvalidRecord() {
        assertEquals(SequenceOutcome.INVALID_RECORD, newTable().check(-2L, (short) 0, 0, 0));
        assertEquals(SequenceOutcome.INVALID_RECORD, newTable().check(Long.MIN_VALUE, (short) 0, 0, 0));
    }

    @Test
    void row2IdempotentBatchWithNegativeSequenceIsAnInvalidRecord() {
        ProducerStateTable table = newTable();
        assertEquals(SequenceOutcome.INVALID_RECORD, table.check(7L, (short) 0, -1, 0));
        append(table, 7L, 0, 0, 1, 0L, T0);
        assertEquals(SequenceOutcome.INVALID_RECORD, table.check(7L, (short) 0, Integer.MIN_VALUE, 0));
    }

    @Test
    void row3OlderEpochIsFenced() {
        ProducerStateTable table = newTable();
        append(table, 7L, 3, 0, 1, 0L, T0);
        assertEquals(SequenceOutcome.FENCED, table.check(7L, (short) 2, 1, 0));
        assertEquals(SequenceOutcome.FENCED, table.check(7L, (short) 2, 0, 0));
    }

    @Test
    void row3StaleEpochIsFencedEvenWhenItRepeatsACachedBatchOfItsOldEpoch() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 2, 0L, T0);
        append(table, 7L, 1, 0, 1, 2L, T0);
        assertEquals(SequenceOutcome.FENCED, table.check(7L, (short) 0, 0, 1));
    }

    @Test
    void row4DuplicateIsAnsweredWithTheOriginalOffsets() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 3, 100L, T0);
        append(table, 7L, 0, 3, 2, 103L, T0);
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 0, 2));
        assertEquals(100L, table.duplicateFirstOffset());
        assertEquals(102L, table.duplicateLastOffset());
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 3, 1));
        assertEquals(103L, table.duplicateFirstOffset());
        assertEquals(104L, table.duplicateLastOffset());
    }

    @Test
    void row4SameFirstSequenceWithAnotherLastSequenceIsNotADuplicate() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 3, 0L, T0);
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 0, 1));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 0, 3));
    }

    @Test
    void row5NewerEpochMustStartAtSequenceZero() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 5, 0L, T0);
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 1, 5, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 1, 1, 0));
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 1, 0, 0));
    }

    @Test
    void row5NewEpochForgetsTheOldEpochsBatches() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 1, 0L, T0);
        append(table, 7L, 0, 1, 1, 1L, T0);
        assertEquals(SequenceOutcome.ACCEPT, append(table, 7L, 1, 0, 1, 2L, T0));
        // sequence 0 of epoch 1 is cached (a duplicate), sequence 1 of epoch 0 is gone (now simply the next one)
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 1, 0, 0));
        assertEquals(2L, table.duplicateFirstOffset());
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 1, 1, 0));
    }

    @Test
    void row6SameEpochAcceptsTheNextSequence() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 4, 0L, T0);
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 4, 9));
    }

    @Test
    void row6SameEpochRejectsAGap() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, 0, 4, 0L, T0);
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 5, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 3, 0));
    }

    @Test
    void row6SequenceWrapsFromIntegerMaxValueToZero() {
        ProducerStateTable table = newTable();
        append(table, 7L, 0, Integer.MAX_VALUE - 1, 2, 0L, T0);
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 0, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 1, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, Integer.MAX_VALUE, 0));
    }

    @Test
    void row6ABatchMayWrapInsideAndItsDuplicateIsStillRecognised() {
        ProducerStateTable table = newTable();
        // sequences MAX-1, MAX, 0, 1
        assertEquals(SequenceOutcome.ACCEPT, append(table, 7L, 0, Integer.MAX_VALUE - 1, 4, 10L, T0));
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 2, 0));
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, Integer.MAX_VALUE - 1, 3));
        assertEquals(10L, table.duplicateFirstOffset());
        assertEquals(13L, table.duplicateLastOffset());
    }

    @Test
    void row7UnknownProducerIsAcceptedAtAnySequence() {
        ProducerStateTable table = newTable();
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 0, 0));
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 4, 12345, 10));
        assertEquals(SequenceOutcome.ACCEPT, table.check(Long.MAX_VALUE, (short) 0, Integer.MAX_VALUE, 0));
    }

    @Test
    void row8CheckAloneChangesNothing() {
        ProducerStateTable table = newTable();
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 10, 0));
        assertEquals(0, table.size());
        append(table, 7L, 0, 0, 1, 0L, T0);
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 1, 0));
        // a failed append never calls update: the same batch is still the next one, not a duplicate
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 1, 0));
    }

    @Test
    void row4ComesBeforeRow6EvenWhenTheCachedSequencesAreNotContiguous() {
        // replay rejects nothing, so after recovery a window can hold sequences out of order (a producer that had
        // expired live, then wrote again from another sequence, is still in the replayed table)
        ProducerStateTable table = newTable();
        table.update(7L, (short) 0, 10, 9, 0L, T0);
        table.update(7L, (short) 0, 0, 9, 10L, T0);
        // (10, 19) is the next sequence after 9 AND a cached batch: the duplicate check wins
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 10, 9));
        assertEquals(0L, table.duplicateFirstOffset());
        // starting at 10 with another length is in sequence and not a duplicate
        assertEquals(SequenceOutcome.ACCEPT, table.check(7L, (short) 0, 10, 4));
    }

    @Test
    void whenTwoCachedBatchesMatchTheNewestIsTheOriginal() {
        // replay of a producer that expired live and then re-sent an old batch, which was appended again
        ProducerStateTable table = newTable();
        table.update(7L, (short) 0, 0, 1, 0L, T0);
        table.update(7L, (short) 0, 2, 1, 2L, T0);
        table.update(7L, (short) 0, 0, 1, 4L, T0);
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 0, 1));
        assertEquals(4L, table.duplicateFirstOffset());
        assertEquals(5L, table.duplicateLastOffset());
    }

    // ---- the window of 5 ----

    @Test
    void firstBatchLeavesTheWindowAfterSixWhileTheSecondIsStillADuplicateWithItsOriginalOffset() {
        ProducerStateTable table = newTable();
        for (int i = 0; i < 6; i++) {
            assertEquals(SequenceOutcome.ACCEPT, append(table, 7L, 0, 2 * i, 2, 100L + 2 * i, T0));
        }
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(7L, (short) 0, 0, 1));
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 2, 1));
        assertEquals(102L, table.duplicateFirstOffset());
        assertEquals(103L, table.duplicateLastOffset());
        assertEquals(SequenceOutcome.DUPLICATE, table.check(7L, (short) 0, 10, 1));
        assertEquals(110L, table.duplicateFirstOffset());
    }

    // ---- bounded size: LRU by last write ----

    @Test
    void insertingBeyondTheLimitEvictsTheLeastRecentlyWrittenProducerAndCountsIt() {
        ProducerStateTable table = newTable(3, EXPIRATION_MS);
        append(table, 1L, 0, 0, 1, 0L, T0);
        append(table, 2L, 0, 0, 1, 1L, T0);
        append(table, 3L, 0, 0, 1, 2L, T0);
        append(table, 1L, 0, 1, 1, 3L, T0); // 1 is now the most recently written (and protected); 2 the least
        append(table, 4L, 0, 0, 1, 4L, T0);
        assertEquals(3, table.size());
        assertEquals(1L, table.evictions());
        // 2 is unknown again: any sequence is accepted; 1 and 3 are still known
        assertEquals(SequenceOutcome.ACCEPT, table.check(2L, (short) 0, 7, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(1L, (short) 0, 7, 0));
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(3L, (short) 0, 7, 0));
        assertEquals(List.of(3L, 4L, 1L), producerIds(table), "eviction order: probation, then protected");
    }

    // ---- segmented LRU: a storm of new producer ids cannot evict producers that write ----

    @Test
    void aFullTableEvictsAProducerOnProbationBeforeAnOlderProtectedOne() {
        ProducerStateTable table = newTable(20, EXPIRATION_MS);
        append(table, 100L, 0, 0, 1, 0L, T0);
        append(table, 100L, 0, 1, 1, 1L, T0); // two batches: protected, and the least recently written of all
        for (long pid = 0; pid < 19; pid++) {
            append(table, pid, 0, 0, 1, 2 + pid, T0 + 1);
        }
        append(table, 19L, 0, 0, 1, 30L, T0 + 2);
        assertEquals(20, table.size());
        assertEquals(1L, table.evictions());
        assertEquals(SequenceOutcome.DUPLICATE, table.check(100L, (short) 0, 1, 0), "the protected producer stays");
        assertEquals(SequenceOutcome.ACCEPT, table.check(0L, (short) 0, 7, 0), "the oldest on probation went");
    }

    @Test
    void underPlainLruTheLeastRecentlyWrittenGoesWhateverItsHistory() {
        ProducerStateTable table = newTable(20, EXPIRATION_MS, EvictionPolicy.LRU);
        append(table, 100L, 0, 0, 1, 0L, T0);
        append(table, 100L, 0, 1, 1, 1L, T0);
        for (long pid = 0; pid < 20; pid++) {
            append(table, pid, 0, 0, 1, 2 + pid, T0 + 1);
        }
        assertEquals(SequenceOutcome.ACCEPT, table.check(100L, (short) 0, 1, 0), "evicted: its retry is new again");
        assertEquals(SequenceOutcome.DUPLICATE, table.check(0L, (short) 0, 0, 0));
    }

    @Test
    void aProtectedProducerGoesOnlyWhenProbationIsBelowItsReserve() {
        // 10 slots, reserve 1: ten protected producers fill the table; a new one then evicts the oldest protected,
        // the next new one evicts the one on probation
        ProducerStateTable table = newTable(10, EXPIRATION_MS);
        assertEquals(1, ProducerStateTable.probationReserve(10));
        for (long pid = 0; pid < 10; pid++) {
            append(table, pid, 0, 0, 1, 2 * pid, T0 + pid);
            append(table, pid, 0, 1, 1, 2 * pid + 1, T0 + pid);
        }
        append(table, 50L, 0, 0, 1, 100L, T0 + 20);
        assertEquals(SequenceOutcome.ACCEPT, table.check(0L, (short) 0, 9, 0), "oldest protected evicted");
        append(table, 51L, 0, 0, 1, 101L, T0 + 21);
        assertEquals(SequenceOutcome.ACCEPT, table.check(50L, (short) 0, 9, 0), "then the one on probation");
        assertEquals(SequenceOutcome.OUT_OF_ORDER, table.check(1L, (short) 0, 9, 0), "protected 1 stays");
        assertEquals(2L, table.evictions());
        assertEquals(List.of(51L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), producerIds(table));
    }

    @Test
    void anEpochChangePutsAProducerBackOnProbation() {
        ProducerStateTable table = newTable(10, EXPIRATION_MS);
        append(table, 1L, 0, 0, 1, 0L, T0);
        append(table, 1L, 0, 1, 1, 1L, T0);
        append(table, 2L, 0, 0, 1, 2L, T0);
        assertEquals(List.of(2L, 1L), producerIds(table));
        append(table, 1L, 1, 0, 1, 3L, T0);
        assertEquals(List.of(2L, 1L), producerIds(table), "one batch of its new epoch: on probation, newest");
        append(table, 2L, 0, 1, 1, 4L, T0);
        assertEquals(List.of(1L, 2L), producerIds(table));
    }

    @Test
    void aStormOf200000NewIdsCannotEvict100ProducersThatWrote() {
        ProducerStateTable table = newTable(100_000, EXPIRATION_MS);
        long[] lastOffsets = writeThenStorm(table);
        for (long pid = 0; pid < 100; pid++) {
            // each active producer retries its last batch (sequence 2): answered as a duplicate, original offset
            assertEquals(SequenceOutcome.DUPLICATE, table.check(pid, (short) 0, 2, 0), "producer " + pid);
            assertEquals(lastOffsets[(int) pid], table.duplicateFirstOffset());
        }
        assertEquals(100_000, table.size());
        assertEquals(100_100L, table.evictions(), "the storm evicted only its own ids");
    }

    @Test
    void controlTheSameStormEvictsEveryActiveProducerUnderPlainLru() {
        ProducerStateTable table = newTable(100_000, EXPIRATION_MS, EvictionPolicy.LRU);
        writeThenStorm(table);
        for (long pid = 0; pid < 100; pid++) {
            assertEquals(SequenceOutcome.ACCEPT, table.check(pid, (short) 0, 2, 0),
                "producer " + pid + " forgotten: its retry would be appended a second time");
        }
    }

    /** 100 producers write 3 batches each, then 200,000 new ids write one each; returns each one's last offset. */
    private static long[] writeThenStorm(ProducerStateTable table) {
        long offset = 0;
        long[] last = new long[100];
        for (int seq = 0; seq < 3; seq++) {
            for (long pid = 0; pid < 100; pid++) {
                last[(int) pid] = offset;
                assertEquals(SequenceOutcome.ACCEPT, append(table, pid, 0, seq, 1, offset++, T0 + seq));
            }
        }
        for (long pid = 1_000; pid < 201_000; pid++) {
            assertEquals(SequenceOutcome.ACCEPT, append(table, pid, 0, 0, 1, offset++, T0 + 10));
        }
        return last;
    }

    @Test
    void checksDoNotChangeTheEvictionOrder() {
        ProducerStateTable table = newTable(2, EXPIRATION_MS);
        append(table, 1L, 0, 0, 1, 0L, T0);
        append(table, 2L, 0, 0, 1, 1L, T0);
        table.check(1L, (short) 0, 0, 0);
        append(table, 3L, 0, 0, 1, 2L, T0);
        assertEquals(List.of(2L, 3L), producerIds(table));
    }

    @Test
    void slotsFreedByEvictionAreReusedIndefinitely() {
        ProducerStateTable table = newTable(10, EXPIRATION_MS);
        for (long pid = 0; pid < 10_000; pid++) {
            assertEquals(SequenceOutcome.ACCEPT, append(table, pid, 0, 0, 1, pid, T0));
        }
        assertEquals(10, table.size());
        assertEquals(9_990L, table.evictions());
        assertEquals(SequenceOutcome.DUPLICATE, table.check(9_999L, (short) 0, 0, 0));
        assertEquals(9_999L, table.duplicateFirstOffset());
    }

    // ---- expiry by the server clock ----

    @Test
    void producersIdleForTheExpirationTimeAreRemoved() {
        ProducerStateTable table = newTable();
        append(table, 1L, 0, 0, 1, 0L, T0);
        append(table, 2L, 0, 0, 1, 1L, T0 + 10_000);
        assertEquals(0, table.removeExpired(T0 + EXPIRATION_MS - 1));
        assertEquals(1, table.removeExpired(T0 + EXPIRATION_MS));
        assertEquals(List.of(2L), producerIds(table));
        assertEquals(SequenceOutcome.ACCEPT, table.check(1L, (short) 0, 42, 0));
        assertEquals(0L, table.evictions());
    }

    @Test
    void aWriteKeepsAProducerAlive() {
        ProducerStateTable table = newTable();
        append(table, 1L, 0, 0, 1, 0L, T0);
        append(table, 2L, 0, 0, 1, 1L, T0);
        append(table, 1L, 0, 1, 1, 2L, T0 + 30_000);
        assertEquals(1, table.removeExpired(T0 + EXPIRATION_MS));
        assertEquals(List.of(1L), producerIds(table));
        assertEquals(1, table.removeExpired(T0 + 30_000 + EXPIRATION_MS));
        assertEquals(0, table.size());
    }

    // ---- visiting (snapshots) ----

    @Test
    void visitingOldestFirstAndReplayingRebuildsAnIdenticalTable() {
        ProducerStateTable table = newTable(100, EXPIRATION_MS);
        int[] epochs = new int[20];
        int[] sequences = new int[20];
        long offset = 0;
        for (int round = 0; round < 9; round++) {
            for (int pid = 0; pid < 20; pid += 1 + round % 3) {
                if (round == 4 && pid % 2 == 0) {
                    epochs[pid]++;
                    sequences[pid] = 0;
                }
                int records = 1 + pid % 3;
                assertEquals(SequenceOutcome.ACCEPT,
                    append(table, pid, epochs[pid], sequences[pid], records, offset, T0 + round));
                sequences[pid] += records;
                offset += records;
            }
        }
        ProducerStateTable copy = newTable(100, EXPIRATION_MS);
        table.forEachOldestFirst(new ProducerEntryVisitor() {
            long pid;
            short epoch;
            long lastWrite;

            @Override
            public void producer(long producerId, short e, long lastWriteMs, int batchCount) {
                pid = producerId;
                epoch = e;
                lastWrite = lastWriteMs;
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
                copy.update(pid, epoch, firstSequence, lastOffsetDelta, firstOffset, lastWrite);
            }
        });
        assertEquals(dump(table), dump(copy));
        assertEquals(20, copy.size());
    }

    @Test
    void clearForgetsEveryProducer() {
        ProducerStateTable table = newTable();
        append(table, 1L, 0, 0, 1, 0L, T0);
        table.clear();
        assertEquals(0, table.size());
        assertEquals(SequenceOutcome.ACCEPT, table.check(1L, (short) 0, 9, 0));
        append(table, 1L, 0, 9, 1, 5L, T0);
        assertEquals(1, table.size());
    }

    static List<Long> producerIds(ProducerStateTable table) {
        List<Long> ids = new ArrayList<>();
        table.forEachOldestFirst(new ProducerEntryVisitor() {
            @Override
            public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                ids.add(producerId);
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
            }
        });
        return ids;
    }

    /** Every entry as text, oldest first: pid, epoch, last write, then the batches oldest first. */
    static List<String> dump(ProducerStateTable table) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        table.forEachOldestFirst(new ProducerEntryVisitor() {
            @Override
            public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                if (current.length() > 0) {
                    out.add(current.toString());
                    current.setLength(0);
                }
                current.append("pid=").append(producerId).append(" epoch=").append(epoch).append(" at=")
                    .append(lastWriteMs).append(" n=").append(batchCount);
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
                current.append(" | ").append(firstSequence).append(',').append(lastOffsetDelta).append(',')
                    .append(firstOffset);
            }
        });
        if (current.length() > 0) {
            out.add(current.toString());
        }
        return out;
    }
}
