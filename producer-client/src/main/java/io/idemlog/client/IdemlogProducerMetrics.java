package io.idemlog.client;

import io.idemlog.common.protocol.ErrorCode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The producer's metrics ({@link ProducerMetrics}) as Micrometer meters, the library the server uses too: function
 * counters and gauges that read the producer's own counters when the registry is scraped (nothing is added to the
 * send path). Micrometer is an optional dependency of the producer: only this class needs it.
 *
 * <pre>{@code
 * IdemlogProducer producer = IdemlogProducer.create(config);
 * IdemlogProducerMetrics meters = new IdemlogProducerMetrics(producer);   // tagged client.id=<config's client.id>
 * meters.bindTo(registry);      // e.g. a PrometheusMeterRegistry, a JmxMeterRegistry, Metrics.globalRegistry
 * ...
 * producer.close();
 * meters.close();               // removes the meters from the registry
 * }</pre>
 *
 * Every meter is listed, with its meaning, in docs/OPERATIONS.md ("Producer client metrics").
 */
public final class IdemlogProducerMetrics implements MeterBinder, AutoCloseable {
    private final ProducerMetrics metrics;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private MeterRegistry registry;

    /** Meters of {@code producer}, tagged {@code client.id} with its client id, plus {@code extraTags}. */
    public IdemlogProducerMetrics(IdemlogProducer producer, Tag... extraTags) {
        this(producer.metrics(), Tags.of("client.id", producer.config().clientId()).and(extraTags));
    }

    /** Meters of any {@link ProducerMetrics}, with these tags. */
    public IdemlogProducerMetrics(ProducerMetrics metrics, Iterable<Tag> tags) {
        this.metrics = metrics;
        this.tags = Tags.of(tags);
    }

    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        if (this.registry != null) {
            throw new IllegalStateException("already bound");
        }
        this.registry = registry;
        counter("idemlog.producer.records.sent", "Records acknowledged (or handed to the network with acks=0)",
            ProducerMetrics::recordsSent);
        counter("idemlog.producer.records.failed", "Records whose send failed", ProducerMetrics::recordsFailed);
        counter("idemlog.producer.batches.sent", "Batch sends, first attempts and retries",
            ProducerMetrics::batchesSent);
        counter("idemlog.producer.batches.retried", "Batch sends that were retries",
            ProducerMetrics::batchesRetried);
        counter("idemlog.producer.requests.sent", "Produce requests sent", ProducerMetrics::requestsSent);
        gauge("idemlog.producer.requests.in.flight", "Requests sent and not yet answered",
            ProducerMetrics::requestsInFlight, null);
        counter("idemlog.producer.connection.failures",
            "Requests that timed out or whose connection was lost before the answer",
            ProducerMetrics::connectionFailures);
        counter("idemlog.producer.request.timeouts", "Requests unanswered within request.timeout.ms",
            ProducerMetrics::requestTimeouts);
        counter("idemlog.producer.answers.lost", "Answers found lost because a later request's answer came first",
            ProducerMetrics::answersLost);
        counter("idemlog.producer.probes.sent", "Lost-answer probes sent (answer.probe.ms)",
            ProducerMetrics::probesSent);
        counter("idemlog.producer.connections.stalled", "Connections given up as stalled (stall.timeout.ms)",
            ProducerMetrics::stalledConnections);
        gauge("idemlog.producer.buffer.pool.used", "Buffer memory held by batches not yet completed",
            ProducerMetrics::bufferPoolUsedBytes, "bytes");
        gauge("idemlog.producer.buffer.pool.available", "Buffer memory still available (buffer.memory - used)",
            ProducerMetrics::bufferPoolAvailableBytes, "bytes");
        gauge("idemlog.producer.buffer.pool.waiters", "Threads blocked in send() waiting for buffer memory",
            ProducerMetrics::bufferPoolWaiters, null);
        counter("idemlog.producer.epoch.bumps", "Local epoch bumps after unresolved or failed sequences",
            ProducerMetrics::epochBumps);
        counter("idemlog.producer.ids.received", "InitProducerId answers received",
            ProducerMetrics::producerIdsReceived);
        counter("idemlog.producer.metadata.refreshes", "Metadata answers received",
            ProducerMetrics::metadataRefreshes);
        counter("idemlog.producer.internal.errors", "Bugs caught at a boundary (should stay 0)",
            ProducerMetrics::internalErrors);
        for (ErrorCode e : ErrorCode.values()) {
            if (e.code > 0 && e.code < 128) {
                int code = e.code;
                meters.add(FunctionCounter.builder("idemlog.producer.errors", metrics, m -> m.errors(code))
                    .description("Batch-level errors the server answered, every attempt counted, by error")
                    .tags(tags).tag("error", e.name().toLowerCase(Locale.ROOT)).register(registry));
            }
        }
    }

    private void counter(String name, String description, ToDoubleFunction<ProducerMetrics> f) {
        meters.add(FunctionCounter.builder(name, metrics, f).description(description).tags(tags).register(registry));
    }

    private void gauge(String name, String description, ToDoubleFunction<ProducerMetrics> f, String unit) {
        Gauge.Builder<ProducerMetrics> b = Gauge.builder(name, metrics, f).description(description).tags(tags)
            .strongReference(true);
        if (unit != null) {
            b.baseUnit(unit);
        }
        meters.add(b.register(registry));
    }

    /** Removes this producer's meters from the registry (after the producer is closed). */
    @Override
    public synchronized void close() {
        if (registry != null) {
            for (Meter m : meters) {
                registry.remove(m);
            }
            meters.clear();
        }
    }
}
