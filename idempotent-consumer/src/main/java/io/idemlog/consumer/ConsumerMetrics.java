package io.idemlog.consumer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The consumer's counters (LongAdders, readable whatever registry is used) and their Micrometer meters, all tagged
 * with the scope. Meter names: {@code idemlog.consumer.records} (tag {@code outcome}: applied, duplicate,
 * dead_lettered), {@code idemlog.consumer.handler.failures}, {@code idemlog.consumer.store.failures},
 * {@code idemlog.consumer.unrecorded.effects}, and the timers {@code idemlog.consumer.store.latency} (tag {@code op}:
 * insert, commit) and {@code idemlog.consumer.handler.latency}.
 */
final class ConsumerMetrics {
    final LongAdder applied = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder handlerFailures = new LongAdder();
    final LongAdder deadLettered = new LongAdder();
    final LongAdder storeFailures = new LongAdder();
    final LongAdder unrecorded = new LongAdder();
    private final Timer insertLatency;
    private final Timer commitLatency;
    private final Timer handlerLatency;

    ConsumerMetrics(MeterRegistry registry, String scope) {
        Tags tags = Tags.of("scope", scope);
        counter(registry, "idemlog.consumer.records", tags.and("outcome", "applied"), applied,
            "records whose effect was applied");
        counter(registry, "idemlog.consumer.records", tags.and("outcome", "duplicate"), duplicates,
            "records skipped as already processed");
        counter(registry, "idemlog.consumer.records", tags.and("outcome", "dead_lettered"), deadLettered,
            "records sent to the dead-letter target after their last attempt");
        counter(registry, "idemlog.consumer.handler.failures", tags, handlerFailures, "handler invocations that threw");
        counter(registry, "idemlog.consumer.store.failures", tags, storeFailures,
            "store operations that failed (database down); the record is retried");
        counter(registry, "idemlog.consumer.unrecorded.effects", tags, unrecorded,
            "insert-first mode: effects applied whose id commit failed (possible duplicate effect)");
        this.insertLatency = Timer.builder("idemlog.consumer.store.latency").tags(tags.and("op", "insert"))
            .description("processed-id insert (the duplicate check)").register(registry);
        this.commitLatency = Timer.builder("idemlog.consumer.store.latency").tags(tags.and("op", "commit"))
            .description("store transaction commit").register(registry);
        this.handlerLatency = Timer.builder("idemlog.consumer.handler.latency").tags(tags)
            .description("handler invocation").register(registry);
    }

    private static void counter(MeterRegistry registry, String name, Tags tags, LongAdder adder, String description) {
        FunctionCounter.builder(name, adder, LongAdder::doubleValue).tags(tags).description(description)
            .register(registry);
    }

    void insertNanos(long nanos) {
        insertLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    void commitNanos(long nanos) {
        commitLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    void handlerNanos(long nanos) {
        handlerLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    ConsumerStats snapshot() {
        return new ConsumerStats(applied.sum(), duplicates.sum(), handlerFailures.sum(), deadLettered.sum(),
            storeFailures.sum(), unrecorded.sum());
    }
}
