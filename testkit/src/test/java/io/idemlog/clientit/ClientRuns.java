package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.testkit.HistoryChecker;
import io.idemlog.testkit.RecordTag;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Drives idemlog's producer with tagged records and records what was acknowledged, for the HistoryChecker. */
final class ClientRuns {
    private ClientRuns() {
    }

    /** What a produce run saw. */
    record Produced(long acked, long failed, Exception firstFailure, long millis) {
    }

    static Properties config(String bootstrap, boolean idempotent) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS, bootstrap);
        p.put(ProducerConfig.ACKS, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE, String.valueOf(idempotent));
        p.put(ProducerConfig.LINGER_MS, "5");
        p.put(ProducerConfig.CLIENT_ID, idempotent ? "acceptance-idempotent" : "acceptance-control");
        return p;
    }

    /**
     * Sends {@code records} tagged records round-robin over {@code partitions} partitions (explicit partitions, so
     * the per-partition send order is known), calls {@code progress} with the index of every record sent, then
     * flushes. Every send is registered with the checker before it is sent.
     */
    static Produced produce(IdemlogProducer producer, String topic, int partitions, int records, int valueBytes,
                            String label, HistoryChecker checker, IntConsumer progress) {
        return produce(producer, topic, partitions, records, valueBytes, label, checker, new AtomicLong(), progress);
    }

    /** As above, counting acknowledgements in {@code acked} as they arrive (for a test that acts on progress). */
    static Produced produce(IdemlogProducer producer, String topic, int partitions, int records, int valueBytes,
                            String label, HistoryChecker checker, AtomicLong acked, IntConsumer progress) {
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> first = new AtomicReference<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < records; i++) {
            RecordTag tag = new RecordTag(label, i % partitions, i);
            checker.sent(tag);
            producer.send(topic, tag.partition(), null, tag.encode(valueBytes), null, (md, e) -> {
                if (e == null) {
                    checker.acked(tag, md.offset());
                    acked.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    first.compareAndSet(null, e);
                }
            });
            progress.accept(i);
        }
        producer.flush();
        return new Produced(acked.get(), failed.get(), first.get(), (System.nanoTime() - t0) / 1_000_000);
    }
}
