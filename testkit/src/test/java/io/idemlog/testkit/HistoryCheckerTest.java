package io.idemlog.testkit;

import io.idemlog.testkit.HistoryReport.Defect;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HistoryCheckerTest {
    private final HistoryChecker checker = new HistoryChecker();
    private final long[] nextOffset = new long[4];

    /** Sends, acknowledges and logs {@code count} records of one producer into one partition, in order. */
    private void writeCleanly(String producer, int partition, long firstIndex, int count) {
        for (long i = firstIndex; i < firstIndex + count; i++) {
            RecordTag tag = new RecordTag(producer, partition, i);
            checker.sent(tag);
            long offset = append(partition, tag);
            checker.acked(tag, offset);
        }
    }

    private long append(int partition, RecordTag tag) {
        long offset = nextOffset[partition]++;
        checker.logged(new LoggedRecord(partition, offset, 0L, null, tag.encode(32)));
        return offset;
    }

    private void assertOnly(HistoryReport report, Defect defect, long count) {
        for (Defect d : Defect.values()) {
            assertEquals(d == defect ? count : 0, report.count(d), d + " in\n" + report.summary());
        }
        assertFalse(report.isClean());
        assertEquals(Math.min(count, 10), report.examples(defect).size(), report.summary());
    }

    @Test
    void shouldFindNothingWrongInACleanInterleavedHistory() {
        for (int round = 0; round < 5; round++) {
            writeCleanly("a", 0, round * 10L, 10);
            writeCleanly("b", 0, round * 10L, 10);
            writeCleanly("a", 1, 100 + round * 10L, 10);
        }
        HistoryReport report = checker.check();
        assertTrue(report.isClean(), report.summary());
        assertEquals(150, report.sent());
        assertEquals(150, report.acked());
        assertEquals(150, report.logged());
        assertTrue(report.summary().startsWith("history: sent=150 acked=150 logged=150"), report.summary());
    }

    @Test
    void shouldCountEveryExtraCopyAsADuplicateAndNotAsAnOrderViolation() {
        writeCleanly("a", 0, 0, 5);
        append(0, new RecordTag("a", 0, 2));
        append(0, new RecordTag("a", 0, 2));
        writeCleanly("a", 0, 5, 5);
        HistoryReport report = checker.check();
        assertOnly(report, Defect.DUPLICATE, 2);
        assertEquals(2, report.duplicates());
        assertTrue(report.summary().contains("DUPLICATE: a/p0#2 copy 2 at p0@5, first at p0@2"), report.summary());
    }

    @Test
    void shouldReportAnAcknowledgedRecordMissingFromTheLogAsALoss() {
        writeCleanly("a", 0, 0, 3);
        RecordTag lost = new RecordTag("a", 0, 3);
        checker.sent(lost);
        checker.acked(lost, 3);
        HistoryReport report = checker.check();
        assertOnly(report, Defect.LOSS, 1);
        assertEquals(1, report.losses());
        assertEquals("a/p0#3 acked at offset 3 is not in the log", report.examples(Defect.LOSS).get(0));
    }

    @Test
    void shouldAllowAnUnacknowledgedRecordToBeEitherPresentOrAbsent() {
        writeCleanly("a", 0, 0, 3);
        RecordTag maybeWritten = new RecordTag("a", 0, 3);
        checker.sent(maybeWritten);
        append(0, maybeWritten);
        checker.sent(new RecordTag("a", 0, 4)); // never acked, never written
        HistoryReport report = checker.check();
        assertTrue(report.isClean(), report.summary());
        assertEquals(1, report.unackedPresent());
        assertEquals(5, report.sent());
        assertEquals(3, report.acked());
    }

    @Test
    void shouldReportARecordLoggedBeforeOneSentEarlierAsAnOrderViolation() {
        RecordTag first = new RecordTag("a", 0, 0);
        RecordTag second = new RecordTag("a", 0, 1);
        checker.sent(first);
        checker.sent(second);
        checker.acked(second, append(0, second));
        checker.acked(first, append(0, first));
        HistoryReport report = checker.check();
        assertOnly(report, Defect.ORDER_VIOLATION, 1);
        assertEquals(1, report.orderViolations());
    }

    @Test
    void shouldJudgeOrderPerProducerAndPartitionOnly() {
        writeCleanly("b", 0, 50, 5);
        writeCleanly("a", 0, 0, 5);
        writeCleanly("a", 1, 0, 5); // same indexes again, but another partition
        assertTrue(checker.check().isClean());
    }

    @Test
    void shouldReportAnAcknowledgedOffsetThatDoesNotHoldTheRecord() {
        writeCleanly("a", 0, 0, 2);
        RecordTag tag = new RecordTag("a", 0, 2);
        checker.sent(tag);
        long actual = append(0, tag);
        checker.acked(tag, actual + 7);
        HistoryReport report = checker.check();
        assertOnly(report, Defect.OFFSET_MISMATCH, 1);
        assertEquals("a/p0#2 acked at offset 9, found at p0@2", report.examples(Defect.OFFSET_MISMATCH).get(0));
    }

    @Test
    void shouldNotCheckAnUnknownAcknowledgedOffset() {
        RecordTag tag = new RecordTag("a", 0, 0);
        checker.sent(tag);
        append(0, tag);
        checker.acked(tag, HistoryChecker.UNKNOWN_OFFSET);
        assertTrue(checker.check().isClean());
    }

    @Test
    void shouldReportARecordFoundInAnotherPartitionThanItWasSentTo() {
        RecordTag tag = new RecordTag("a", 1, 0);
        checker.sent(tag);
        append(0, tag);
        assertOnly(checker.check(), Defect.MISPLACED, 1);
    }

    @Test
    void shouldReportATaggedRecordThatWasNeverSentAsAPhantom() {
        writeCleanly("a", 0, 0, 2);
        append(0, new RecordTag("ghost", 0, 0));
        assertOnly(checker.check(), Defect.PHANTOM, 1);
    }

    @Test
    void shouldReportTwoAcknowledgementsWithDifferentOffsets() {
        RecordTag tag = new RecordTag("a", 0, 0);
        checker.sent(tag);
        long offset = append(0, tag);
        checker.acked(tag, offset);
        checker.acked(tag, offset + 1);
        assertOnly(checker.check(), Defect.ACK_CONFLICT, 1);
    }

    @Test
    void shouldIgnoreUntaggedRecordsButCountThem() {
        writeCleanly("a", 0, 0, 2);
        checker.logged(0, 2, "written by someone else".getBytes(StandardCharsets.US_ASCII));
        checker.logged(0, 3, null);
        HistoryReport report = checker.check();
        assertTrue(report.isClean(), report.summary());
        assertEquals(2, report.untagged());
        assertEquals(4, report.logged());
    }

    @Test
    void shouldCheckTheLogInOffsetOrderWhateverOrderItWasFedIn() {
        RecordTag first = new RecordTag("a", 0, 0);
        RecordTag second = new RecordTag("a", 0, 1);
        checker.sent(first);
        checker.sent(second);
        checker.acked(first, 10);
        checker.acked(second, 11);
        checker.logged(0, 11, second.encode());
        checker.logged(0, 10, first.encode());
        assertTrue(checker.check().isClean());
    }

    @Test
    void shouldKeepOnlyTheFirstTenExamplesButCountEveryDefect() {
        for (int i = 0; i < 25; i++) {
            RecordTag tag = new RecordTag("a", 0, i);
            checker.sent(tag);
            checker.acked(tag, i);
        }
        HistoryReport report = checker.check();
        assertOnly(report, Defect.LOSS, 25);
        assertEquals("a/p0#0 acked at offset 0 is not in the log", report.examples(Defect.LOSS).get(0));
    }
}
