package io.idemlog.testkit;

import io.idemlog.testkit.HistoryReport.Defect;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a log against what its producers were told, Jepsen style: the producers' history (every record sent, and
 * for those acknowledged the offset given) on one side, the records read back from the log on the other.
 *
 * <p>Records are identified by the {@link RecordTag} in their value. The checks, in the words of the report:
 * <ul>
 *   <li>duplicates: a tag present more than once in the log (each extra copy counts once);</li>
 *   <li>losses: an acknowledged tag absent from the log;</li>
 *   <li>order violations: per producer and partition, walking the log in offset order, a record whose send index
 *       is lower than one already seen (first copies only, so a duplicate is not also an order violation);</li>
 *   <li>offset mismatches: an acknowledged record present, but not at the acknowledged offset (offsets below 0,
 *       e.g. acks=0, are "unknown" and not checked);</li>
 *   <li>misplaced: a record in another partition than the one it was sent to;</li>
 *   <li>phantoms: a tag in the log that was never {@link #sent sent} nor acknowledged;</li>
 *   <li>conflicting acks: a tag acknowledged twice with two different offsets.</li>
 * </ul>
 * A record sent but never acknowledged may be in the log once, or not at all: both are allowed.
 *
 * <p>Usage: call {@link #sent} before handing a record to the producer, {@link #acked} from its callback,
 * {@link #logged} for every record a {@link LogReader} returns, then {@link #check()}. All methods are thread-safe
 * (producer callbacks run on the producer's I/O thread).
 */
public final class HistoryChecker {
    /** The offset to pass to {@link #acked} when the producer was not told one. */
    public static final long UNKNOWN_OFFSET = -1L;
    private static final int EXAMPLES_PER_DEFECT = 10;
    private static final Comparator<RecordTag> TAG_ORDER = Comparator.comparing(RecordTag::producer)
        .thenComparingInt(RecordTag::partition).thenComparingLong(RecordTag::index);

    /** What the producer side knows about one tag. */
    private static final class Sent {
        long ackedOffset = UNKNOWN_OFFSET;
        boolean acked;
        boolean ackConflict;
        String conflict;
    }

    /** One record of the log. */
    private record Entry(int partition, long offset, RecordTag tag) {
    }

    /** A producer's records in one partition. */
    private record Stream(String producer, int partition) {
    }

    private final Map<RecordTag, Sent> history = new HashMap<>();
    private final List<Entry> log = new ArrayList<>();

    /** Records that {@code tag} is about to be handed to a producer. */
    public synchronized void sent(RecordTag tag) {
        history.computeIfAbsent(tag, t -> new Sent());
    }

    /**
     * Records that the producer acknowledged {@code tag} at {@code offset} (or {@link #UNKNOWN_OFFSET}). Implies
     * {@link #sent}.
     */
    public synchronized void acked(RecordTag tag, long offset) {
        Sent s = history.computeIfAbsent(tag, t -> new Sent());
        if (s.acked && offset >= 0 && s.ackedOffset >= 0 && offset != s.ackedOffset && !s.ackConflict) {
            s.ackConflict = true;
            s.conflict = tag + " acked at offset " + s.ackedOffset + " and at " + offset;
        }
        if (!s.acked || s.ackedOffset < 0) {
            s.ackedOffset = offset;
        }
        s.acked = true;
    }

    /** Records one record read back from the log. */
    public synchronized void logged(LoggedRecord record) {
        logged(record.partition(), record.offset(), record.value());
    }

    /** Records one record read back from the log: where it was and its value. */
    public synchronized void logged(int partition, long offset, byte[] value) {
        log.add(new Entry(partition, offset, RecordTag.decode(value)));
    }

    /** Runs every check over everything recorded so far. May be called again after more records are added. */
    public synchronized HistoryReport check() {
        Findings findings = new Findings();
        List<Entry> ordered = new ArrayList<>(log);
        ordered.sort(Comparator.comparingInt(Entry::partition).thenComparingLong(Entry::offset));

        Map<RecordTag, List<Entry>> occurrences = new HashMap<>();
        Map<Stream, Entry> lastInStream = new HashMap<>();
        long untagged = 0;
        for (Entry e : ordered) {
            RecordTag tag = e.tag;
            if (tag == null) {
                untagged++;
                continue;
            }
            List<Entry> copies = occurrences.computeIfAbsent(tag, t -> new ArrayList<>(1));
            copies.add(e);
            if (copies.size() > 1) {
                findings.add(Defect.DUPLICATE, tag + " copy " + copies.size() + " at p" + e.partition + "@"
                    + e.offset + ", first at p" + copies.get(0).partition + "@" + copies.get(0).offset);
                continue;
            }
            if (!history.containsKey(tag)) {
                findings.add(Defect.PHANTOM, tag + " at p" + e.partition + "@" + e.offset + " was never sent");
            }
            if (tag.partition() != e.partition) {
                findings.add(Defect.MISPLACED, tag + " found in partition " + e.partition + " at offset "
                    + e.offset);
            }
            Stream stream = new Stream(tag.producer(), e.partition);
            Entry last = lastInStream.get(stream);
            if (last != null && last.tag.index() > tag.index()) {
                findings.add(Defect.ORDER_VIOLATION, tag + " at p" + e.partition + "@" + e.offset + " after "
                    + last.tag + " at p" + last.partition + "@" + last.offset);
            } else {
                lastInStream.put(stream, e);
            }
        }

        long acked = 0;
        long unackedPresent = 0;
        List<Map.Entry<RecordTag, Sent>> sends = new ArrayList<>(history.entrySet());
        sends.sort(Map.Entry.comparingByKey(TAG_ORDER)); // examples in a stable order
        for (Map.Entry<RecordTag, Sent> h : sends) {
            RecordTag tag = h.getKey();
            Sent s = h.getValue();
            List<Entry> copies = occurrences.get(tag);
            if (s.ackConflict) {
                findings.add(Defect.ACK_CONFLICT, s.conflict);
            }
            if (!s.acked) {
                if (copies != null) {
                    unackedPresent++;
                }
                continue;
            }
            acked++;
            if (copies == null) {
                findings.add(Defect.LOSS, tag + " acked at offset " + s.ackedOffset + " is not in the log");
            } else if (s.ackedOffset >= 0 && !foundAt(copies, tag.partition(), s.ackedOffset)) {
                findings.add(Defect.OFFSET_MISMATCH, tag + " acked at offset " + s.ackedOffset + ", found at p"
                    + copies.get(0).partition + "@" + copies.get(0).offset);
            }
        }
        HistoryReport.Volumes volumes = new HistoryReport.Volumes(history.size(), acked, log.size(), untagged,
            unackedPresent);
        return new HistoryReport(volumes, findings.counts, findings.examples);
    }

    private static boolean foundAt(List<Entry> copies, int partition, long offset) {
        for (Entry e : copies) {
            if (e.partition == partition && e.offset == offset) {
                return true;
            }
        }
        return false;
    }

    /** Defect counts and the first few examples of each. */
    private static final class Findings {
        final Map<Defect, Long> counts = new EnumMap<>(Defect.class);
        final Map<Defect, List<String>> examples = new EnumMap<>(Defect.class);

        void add(Defect defect, String example) {
            counts.merge(defect, 1L, Long::sum);
            List<String> list = examples.computeIfAbsent(defect, d -> new ArrayList<>());
            if (list.size() < EXAMPLES_PER_DEFECT) {
                list.add(example);
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "HistoryChecker(" + history.size() + " sent, " + log.size() + " logged)";
    }
}
