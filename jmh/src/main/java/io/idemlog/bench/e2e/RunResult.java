package io.idemlog.bench.e2e;

import java.util.Locale;

/**
 * The figures of one run. Latencies are NaN when not measured (kcat). {@code clientCpuSeconds} is the whole
 * harness JVM's CPU for an in-JVM client (producer, its callbacks, the harness's own loop), the kcat process's
 * for kcat. {@code logged} is how many records the run added to the log (sum of high watermark differences), the
 * check that the count is right.
 */
record RunResult(String bench, int round, String comparison, String side, String target, Workload workload,
                 double seconds, double p50Ms, double p99Ms, double p999Ms, double maxMs, double serverCpuSeconds,
                 double clientCpuSeconds, long requests, long fsyncs, long logged, long failed, double load1) {

    double recordsPerSecond() {
        return workload.records() / seconds;
    }

    /** Value bytes per second, in MB (10^6 bytes). */
    double megabytesPerSecond() {
        return workload.records() * (double) workload.size() / seconds / 1e6;
    }

    double serverCpuPerMillion() {
        return serverCpuSeconds / (workload.records() / 1e6);
    }

    double clientCpuPerMillion() {
        return clientCpuSeconds / (workload.records() / 1e6);
    }

    /** Server fsync + fdatasync calls per million records; NaN when not counted. */
    double fsyncsPerMillion() {
        return fsyncs < 0 ? Double.NaN : fsyncs / (workload.records() / 1e6);
    }

    boolean countOk() {
        return logged == workload.records() && failed == 0;
    }

    /** The printed line of a run. */
    String line() {
        String lat = Double.isNaN(p50Ms) ? "latency n/a (kcat: wall clock only)"
            : String.format(Locale.ROOT, "latency%s p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms",
                workload.fixedRate() ? "" : " (max-throughput: includes queueing)", p50Ms, p99Ms, p999Ms, maxMs);
        return String.format(Locale.ROOT,
            "RUN r%d %-8s %-42s %,11.0f rec/s %7.2f MB/s | %s | server CPU %.2f s/Mrec, client CPU %.2f s/Mrec"
                + " | %s | %s | log +%,d%s | load %.2f",
            round, target, workload.key(), recordsPerSecond(), megabytesPerSecond(), lat, serverCpuPerMillion(),
            clientCpuPerMillion(), requests < 0 ? "requests n/a" : String.format(Locale.ROOT, "%,d requests (%.0f rec/req)",
                requests, requests == 0 ? 0.0 : workload.records() / (double) requests),
            fsyncs < 0 ? "fsyncs n/a" : String.format(Locale.ROOT, "%,d server fsyncs", fsyncs),
            logged, countOk() ? "" : " !!! EXPECTED " + workload.records() + (failed > 0 ? ", " + failed + " FAILED" : ""),
            load1);
    }

    static final String CSV_HEADER = "bench,round,comparison,side,target,client,partitions,records,size,acks,"
        + "idempotence,linger_ms,batch_size,mode,rate,seconds,records_per_s,mb_per_s,p50_ms,p99_ms,p999_ms,max_ms,"
        + "server_cpu_s,server_cpu_s_per_mrec,client_cpu_s_per_mrec,requests,fsyncs,logged,failed,load1";

    String csv() {
        Workload w = workload;
        return String.join(",", bench, String.valueOf(round), comparison, side, target, w.client().label,
            String.valueOf(w.partitions()), String.valueOf(w.records()), String.valueOf(w.size()), w.acks(),
            String.valueOf(w.idempotence()), String.valueOf(w.lingerMs()),
            w.client() == ClientKind.KCAT_DEFAULT_BATCH ? "default" : String.valueOf(w.batchSize()),
            w.fixedRate() ? "fixed-rate" : "max", String.valueOf(w.rate()), num(seconds), num(recordsPerSecond()),
            num(megabytesPerSecond()), num(p50Ms), num(p99Ms), num(p999Ms), num(maxMs), num(serverCpuSeconds),
            num(serverCpuPerMillion()), num(clientCpuPerMillion()), String.valueOf(requests), String.valueOf(fsyncs),
            String.valueOf(logged),
            String.valueOf(failed), num(load1));
    }

    static String num(double d) {
        return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.4f", d);
    }
}
