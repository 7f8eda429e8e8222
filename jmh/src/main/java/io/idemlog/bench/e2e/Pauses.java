package io.idemlog.bench.e2e;

import com.sun.management.GarbageCollectionNotificationInfo;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Where a run's pauses of more than {@link #PAUSE_MS} ms came from (issue 14: the "server answer pauses" that the
 * stall detector took for stalled connections). Four views of one measured run, side by side:
 * <ul>
 *   <li>ack gaps: periods of more than 100 ms in which no record was acknowledged while records were in flight (the
 *       producer's own view; recorded on its I/O thread, the one that runs the callbacks);</li>
 *   <li>harness GC: stop-the-world collections of this JVM, which hosts the producer AND the fault proxy (a pause
 *       here freezes both: on resuming, the producer may look at its deadlines before the proxy has forwarded an
 *       answer that the server sent long ago);</li>
 *   <li>server GC: pauses in the server JVM's {@code -Xlog:gc} file;</li>
 *   <li>server answers: Produce requests the server itself took more than 100 ms to answer, and group-commit fsyncs
 *       over 100 ms, from its Prometheus histograms (differences of two scrapes: start and end of the run).</li>
 * </ul>
 */
final class Pauses {
    /** What counts as a pause (ms). */
    static final long PAUSE_MS = 100;
    private static final long PAUSE_NANOS = PAUSE_MS * 1_000_000L;

    /** Gaps between consecutive acknowledgements, on the thread that runs the callbacks. */
    static final class AckGaps {
        private long last;
        private long count;
        private long maxNanos;

        /** Starts counting from {@code nanos} (the measured part's start). */
        void start(long nanos) {
            last = nanos;
        }

        /** One acknowledgement at {@code nanos} (System.nanoTime()); callback thread only. */
        void ack(long nanos) {
            long gap = nanos - last;
            last = nanos;
            if (gap > PAUSE_NANOS) {
                count++;
            }
            if (gap > maxNanos) {
                maxNanos = gap;
            }
        }

        long count() {
            return count;
        }

        double maxMs() {
            return maxNanos / 1e6;
        }
    }

    /** This JVM's stop-the-world GC pauses between {@link #start} and {@link #stop}. */
    static final class HarnessGc implements NotificationListener {
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private long count;
        private long over;
        private long maxMs;
        private long totalMs;

        static HarnessGc start() {
            HarnessGc g = new HarnessGc();
            for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (b instanceof NotificationEmitter e) {
                    e.addNotificationListener(g, null, null);
                    g.emitters.add(e);
                }
            }
            return g;
        }

        @Override
        public synchronized void handleNotification(Notification n, Object handback) {
            if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                return;
            }
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from(
                (CompositeData) n.getUserData());
            if (info.getGcName().contains("Concurrent") || info.getGcAction().contains("concurrent")) {
                return; // not a pause of the application
            }
            long ms = info.getGcInfo().getDuration();
            count++;
            totalMs += ms;
            maxMs = Math.max(maxMs, ms);
            if (ms > PAUSE_MS) {
                over++;
            }
        }

        synchronized void stop() {
            for (NotificationEmitter e : emitters) {
                try {
                    e.removeNotificationListener(this);
                } catch (javax.management.ListenerNotFoundException ignored) {
                    // never added
                }
            }
        }

        synchronized long over() {
            return over;
        }

        synchronized long maxMs() {
            return maxMs;
        }

        synchronized long totalMs() {
            return totalMs;
        }

        synchronized long count() {
            return count;
        }
    }

    private static final Pattern GC_PAUSE = Pattern.compile("\\[([0-9.]+)s\\].* Pause .* ([0-9.]+)ms$");

    /** Stop-the-world pauses in an {@code -Xlog:gc:file=...:uptime} file from {@code fromUptimeS} on: {over, maxMs}. */
    static double[] serverGc(Path gcLog, double fromUptimeS) {
        long over = 0;
        double max = 0;
        if (!Files.exists(gcLog)) {
            return new double[] {Double.NaN, Double.NaN};
        }
        try {
            for (String line : Files.readAllLines(gcLog)) {
                Matcher m = GC_PAUSE.matcher(line);
                if (m.find() && Double.parseDouble(m.group(1)) >= fromUptimeS) {
                    double ms = Double.parseDouble(m.group(2));
                    max = Math.max(max, ms);
                    if (ms > PAUSE_MS) {
                        over++;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {over, max};
    }

    /** The last uptime stamp in a GC log (s), 0 if none. */
    static double lastUptime(Path gcLog) {
        double last = 0;
        try {
            if (Files.exists(gcLog)) {
                Matcher m = Pattern.compile("\\[([0-9.]+)s\\]").matcher("");
                for (String line : Files.readAllLines(gcLog)) {
                    if (m.reset(line).find()) {
                        last = Double.parseDouble(m.group(1));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return last;
    }

    /** Counts from the server's Prometheus text: Produce answers and fsyncs, all and those within 100 ms. */
    record ServerCounts(double produce, double produceFast, double fsyncs, double fsyncsFast) {
        static final ServerCounts NONE = new ServerCounts(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

        double slowProduce() {
            return produce - produceFast;
        }

        double slowFsyncs() {
            return fsyncs - fsyncsFast;
        }

        ServerCounts minus(ServerCounts o) {
            return new ServerCounts(produce - o.produce, produceFast - o.produceFast, fsyncs - o.fsyncs,
                fsyncsFast - o.fsyncsFast);
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Scrapes {@code endpoint}/metrics; {@link ServerCounts#NONE} when it cannot. */
    static ServerCounts scrape(String endpoint) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(endpoint + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            String text = r.body();
            return new ServerCounts(
                value(text, "idemlog_request_latency_seconds_count{api=\"produce\"}"),
                value(text, "idemlog_request_latency_seconds_bucket{api=\"produce\",le=\"0.1\"}"),
                value(text, "idemlog_storage_fsync_seconds_count"),
                value(text, "idemlog_storage_fsync_seconds_bucket{le=\"0.1\"}"));
        } catch (IOException | RuntimeException e) {
            return ServerCounts.NONE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ServerCounts.NONE;
        }
    }

    private static double value(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    /** The figures of one run. */
    record Summary(long ackGaps, double ackGapMaxMs, long harnessGc, long harnessGcMaxMs, long harnessGcTotalMs,
                   double serverGc, double serverGcMaxMs, double serverSlowProduce, double serverSlowFsyncs) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "pauses > %d ms: ack gaps %d (max %.0f ms), harness GC %d (max %d ms, "
                    + "total %d ms), server GC %s (max %s ms), server answers %s, fsyncs %s", PAUSE_MS, ackGaps,
                ackGapMaxMs, harnessGc, harnessGcMaxMs, harnessGcTotalMs, n(serverGc), n(serverGcMaxMs),
                n(serverSlowProduce), n(serverSlowFsyncs));
        }

        private static String n(double d) {
            return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%.0f", d);
        }
    }
}
