package io.idemlog.bench.e2e;

import java.util.Locale;

/** The producer that drives a run. */
enum ClientKind {
    /** io.idemlog.client.IdemlogProducer, in the harness JVM. */
    IDEMLOG("idemlog-producer"),
    /** org.apache.kafka.clients.producer.KafkaProducer 4.1.1, in the harness JVM. */
    KAFKA("kafka-clients"),
    /** kcat (librdkafka) as a child process, with the run's batch.size. */
    KCAT("kcat"),
    /** kcat with librdkafka's default batch.size (1,000,000 bytes) and batch.num.messages. */
    KCAT_DEFAULT_BATCH("kcat-default-batch");

    final String label;

    ClientKind(String label) {
        this.label = label;
    }

    boolean inJvm() {
        return this == IDEMLOG || this == KAFKA;
    }

    boolean kcat() {
        return this == KCAT || this == KCAT_DEFAULT_BATCH;
    }

    static ClientKind parse(String s) {
        for (ClientKind k : values()) {
            if (k.label.equals(s) || k.name().equalsIgnoreCase(s.replace('-', '_'))) {
                return k;
            }
        }
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "idemlog" -> IDEMLOG;
            case "kafka" -> KAFKA;
            case "kcat-default" -> KCAT_DEFAULT_BATCH;
            default -> throw new IllegalArgumentException("unknown client " + s
                + " (idemlog, kafka, kcat, kcat-default)");
        };
    }
}
