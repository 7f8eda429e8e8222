package io.idemlog.bench.e2e;

import java.util.Locale;

/**
 * What one run sends: {@code records} values of {@code size} bytes (no key, no headers) to a topic of
 * {@code partitions} partitions, with the given producer settings. {@code rate} 0 is the max-throughput mode (send
 * as fast as the producer accepts); otherwise records are offered at that many per second on a fixed schedule and
 * latency is measured from each record's scheduled time (so a stalled producer shows as latency, not as a pause).
 */
record Workload(ClientKind client, int partitions, long records, int size, String acks, boolean idempotence,
                int lingerMs, int batchSize, long rate, long warmup, String compression, boolean text,
                String dedupHeader) {

    /** Without a de-duplication key header. */
    Workload(ClientKind client, int partitions, long records, int size, String acks, boolean idempotence,
             int lingerMs, int batchSize, long rate, long warmup, String compression, boolean text) {
        this(client, partitions, records, size, acks, idempotence, lingerMs, batchSize, rate, warmup, compression, text,
            null);
    }

    /**
     * Each record also carries a header of this name with a unique 16-byte value (8 bytes per send loop, 8 bytes the
     * record's index), as de-duplication keys; in-JVM idemlog producer only (the dedup-cost comparison).
     */
    Workload withDedupHeader(String header) {
        return new Workload(client, partitions, records, size, acks, idempotence, lingerMs, batchSize, rate, warmup,
            compression, text, header);
    }

    /** The original ten fields: no compression, random (incompressible) values. */
    Workload(ClientKind client, int partitions, long records, int size, String acks, boolean idempotence,
             int lingerMs, int batchSize, long rate, long warmup) {
        this(client, partitions, records, size, acks, idempotence, lingerMs, batchSize, rate, warmup, "none", false);
    }

    /** With this producer compression.type and text-like values (4,096 distinct JSON-like lines, {@link #size} B). */
    Workload withCompression(String codec, boolean textValues) {
        return new Workload(client, partitions, records, size, acks, idempotence, lingerMs, batchSize, rate, warmup,
            codec, textValues, dedupHeader);
    }

    boolean fixedRate() {
        return rate > 0;
    }

    String mode() {
        return fixedRate() ? "fixed-rate " + rate + "/s" : "max-throughput";
    }

    Workload withClient(ClientKind c) {
        return new Workload(c, partitions, records, size, acks, idempotence, lingerMs, batchSize, rate,
            warmup, compression, text, dedupHeader);
    }

    Workload withPartitions(int p) {
        return new Workload(client, p, records, size, acks, idempotence, lingerMs, batchSize, rate,
            warmup, compression, text, dedupHeader);
    }

    Workload withIdempotence(boolean on) {
        return new Workload(client, partitions, records, size, acks, on, lingerMs, batchSize, rate,
            warmup, compression, text, dedupHeader);
    }

    Workload withRate(long r, long n) {
        return new Workload(client, partitions, n, size, acks, idempotence, lingerMs, batchSize, r,
            warmup, compression, text, dedupHeader);
    }

    String describe() {
        return String.format(Locale.ROOT, "%s p=%d %,d x %d B acks=%s idempotence=%s linger.ms=%d batch.size=%s %s%s",
            client.label, partitions, records, size, acks, idempotence ? "on" : "off", lingerMs,
            client == ClientKind.KCAT_DEFAULT_BATCH ? "default" : String.valueOf(batchSize), mode(),
            (text ? " text values" : "") + (compression.equals("none") ? "" : " compression=" + compression)
                + (dedupHeader == null ? "" : " header " + dedupHeader + "=<unique 16 B>"));
    }

    /** A short key: client, partitions, idempotence, mode. */
    String key() {
        return client.label + "/p" + partitions + "/idem-" + (idempotence ? "on" : "off")
            + (fixedRate() ? "/rate-" + rate : "/max") + (text ? "/text" : "")
            + (compression.equals("none") ? "" : "/" + compression) + (dedupHeader == null ? "" : "/dedup-key");
    }
}
