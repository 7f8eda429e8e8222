package io.idemlog.spike.ratis;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.TreeMap;

/** What one node JVM costs: threads by name family, direct and mapped buffers, heap. Answers the STATS query. */
final class NodeStats {
    private NodeStats() {
    }

    /**
     * One line: {@code threads=N direct=BYTES/COUNT heapUsed=BYTES families=name:count,...}. Thread names are
     * reduced to a family by dropping digits and everything after the group/peer id, so that "8 threads per group"
     * shows as counts that grow with the number of groups.
     */
    static String describe() {
        Map<String, Integer> families = new TreeMap<>();
        int threads = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            threads++;
            families.merge(family(t.getName()), 1, Integer::sum);
        }
        long direct = 0;
        long directCount = 0;
        long mapped = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
                directCount = pool.getCount();
            } else if (pool.getName().equals("mapped")) {
                mapped = pool.getMemoryUsed();
            }
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        StringBuilder sb = new StringBuilder();
        sb.append("threads=").append(threads).append(" direct=").append(direct).append('/').append(directCount)
            .append(" mapped=").append(mapped).append(" heapUsed=").append(heap.getUsed())
            .append(" heapCommitted=").append(heap.getCommitted()).append(" families=");
        boolean first = true;
        for (Map.Entry<String, Integer> e : families.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(e.getKey()).append(':').append(e.getValue());
        }
        return sb.toString();
    }

    /** "n1@group-1A2B3C4D5E6F-SegmentedRaftLogWorker" -> "@group-SegmentedRaftLogWorker"; digits -> "#". */
    static String family(String name) {
        String s = name.replaceAll("group-[0-9A-Fa-f]{12}", "group").replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "uuid")
            .replaceAll("\\d+", "#").replace(',', ';').replace(' ', '_').replace(':', '_');
        return s.length() > 60 ? s.substring(0, 60) : s;
    }
}
