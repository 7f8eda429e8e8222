package io.idemlog.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link HistoryChecker#check()} found: how much was sent, acknowledged and read back, and every defect counted
 * by kind with a few examples each. Immutable.
 */
public final class HistoryReport {
    /** A way the log can disagree with what the producers were told. */
    public enum Defect {
        /** A tagged record present more than once; counted per extra copy. */
        DUPLICATE("duplicates"),
        /** An acknowledged record absent from the log. */
        LOSS("losses"),
        /** Per producer and partition, a record found after one the producer sent later. */
        ORDER_VIOLATION("order violations"),
        /** An acknowledged record found, but not at the offset the producer was told. */
        OFFSET_MISMATCH("offset mismatches"),
        /** A record found in another partition than the one it was sent to. */
        MISPLACED("misplaced"),
        /** A tagged record in the log that was never sent. */
        PHANTOM("phantoms"),
        /** The same record acknowledged twice with different offsets. */
        ACK_CONFLICT("conflicting acks");

        private final String label;

        Defect(String label) {
            this.label = label;
        }

        /** Plural name used in {@link HistoryReport#summary()}. */
        public String label() {
            return label;
        }
    }

    /** Volumes that describe the history, not defects. */
    public record Volumes(long sent, long acked, long logged, long untagged, long unackedPresent) {
    }

    private final Volumes volumes;
    private final Map<Defect, Long> counts;
    private final Map<Defect, List<String>> examples;

    HistoryReport(Volumes volumes, Map<Defect, Long> counts, Map<Defect, List<String>> examples) {
        this.volumes = volumes;
        EnumMap<Defect, Long> c = new EnumMap<>(Defect.class);
        EnumMap<Defect, List<String>> e = new EnumMap<>(Defect.class);
        for (Defect d : Defect.values()) {
            c.put(d, counts.getOrDefault(d, 0L));
            e.put(d, Collections.unmodifiableList(new ArrayList<>(examples.getOrDefault(d, List.of()))));
        }
        this.counts = Collections.unmodifiableMap(c);
        this.examples = Collections.unmodifiableMap(e);
    }

    /** Records handed to producers (every distinct tag seen by {@code sent} or {@code acked}). */
    public long sent() {
        return volumes.sent;
    }

    /** Records the producers were told are written. */
    public long acked() {
        return volumes.acked;
    }

    /** Records read back from the log, tagged or not. */
    public long logged() {
        return volumes.logged;
    }

    /** Records in the log that carry no {@link RecordTag}; ignored by the checks. */
    public long untagged() {
        return volumes.untagged;
    }

    /**
     * Records that were sent, never acknowledged (the producer gave up or the test stopped waiting), and are in the
     * log anyway. Allowed: an unacknowledged record may or may not have been written.
     */
    public long unackedPresent() {
        return volumes.unackedPresent;
    }

    /** How many defects of this kind were found. */
    public long count(Defect defect) {
        return counts.get(defect);
    }

    /** Up to a few descriptions of defects of this kind, in log order. */
    public List<String> examples(Defect defect) {
        return examples.get(defect);
    }

    /** Extra copies of tagged records. */
    public long duplicates() {
        return count(Defect.DUPLICATE);
    }

    /** Acknowledged records missing from the log. */
    public long losses() {
        return count(Defect.LOSS);
    }

    /** Records out of send order within their producer and partition. */
    public long orderViolations() {
        return count(Defect.ORDER_VIOLATION);
    }

    /** Acknowledged records not at their acknowledged offset. */
    public long offsetMismatches() {
        return count(Defect.OFFSET_MISMATCH);
    }

    /** True when no defect of any kind was found. */
    public boolean isClean() {
        for (long n : counts.values()) {
            if (n != 0) {
                return false;
            }
        }
        return true;
    }

    /** A multi-line summary: volumes, every defect count, then the examples of each defect found. */
    public String summary() {
        StringBuilder sb = new StringBuilder(256);
        sb.append("history: sent=").append(volumes.sent).append(" acked=").append(volumes.acked)
            .append(" logged=").append(volumes.logged).append(" untagged=").append(volumes.untagged)
            .append(" unackedPresent=").append(volumes.unackedPresent).append('\n');
        sb.append(isClean() ? "CLEAN:" : "DEFECTS:");
        for (Defect d : Defect.values()) {
            sb.append(' ').append(d.label).append('=').append(counts.get(d));
        }
        for (Defect d : Defect.values()) {
            for (String example : examples.get(d)) {
                sb.append("\n  ").append(d.name()).append(": ").append(example);
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return summary();
    }
}
