package io.idemlog.server.metrics;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.server.handler.ServerMetrics;
import io.idemlog.server.handler.TopicProduceMetrics;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.StorageMetrics;
import io.idemlog.server.network.NetworkMetrics;
import io.idemlog.server.network.RequestMetrics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Binds the server's cheap counters ({@link ServerMetrics}, {@link NetworkMetrics}, {@link RequestMetrics},
 * {@link StorageMetrics}, the producer state of every partition) to a Micrometer registry: function counters and
 * gauges that read them at scrape time, plus three histograms (request latency by API, fsync latency, records per
 * group commit) fed through the counters' observer hooks. Nothing is registered or looked up on the request path.
 *
 * <p>Meters whose label values appear at run time (an API version's first request, an error code's first
 * occurrence, a topic's first produce, a counter added through {@link ServerMetrics#counter}) are registered by
 * {@link #refresh()}, which the endpoint calls before each scrape and {@link MetricsService} every few seconds (for
 * JMX). Every meter is listed in docs/OPERATIONS.md.
 */
public final class ServerMeters implements MeterBinder {
    /** Request latency buckets (seconds as Prometheus shows them). */
    static final Duration[] LATENCY_BUCKETS = millis(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
        2500, 5000, 10000, 30000);
    /** fsync latency buckets. */
    static final Duration[] FSYNC_BUCKETS = millis(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000,
        5000);
    /** Records-per-group-commit buckets. */
    static final double[] RECORDS_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000,
        100000};

    private final ServerMetrics server;
    private final NetworkMetrics network;
    private final LongSupplier requestMemoryInUse;
    private final LogStore logs;
    private MeterRegistry registry;

    private final Set<Integer> requestSlots = new HashSet<>();
    private final Set<Long> errorSlots = new HashSet<>();
    private final Map<String, List<Meter>> topicMeters = new HashMap<>();
    private final Set<ServerMetrics.Extra> extras = new HashSet<>();

    public ServerMeters(ServerMetrics server, NetworkMetrics network, LongSupplier requestMemoryInUse, LogStore logs) {
        this.server = server;
        this.network = network;
        this.requestMemoryInUse = requestMemoryInUse;
        this.logs = logs;
    }

    private static Duration[] millis(double... ms) {
        Duration[] d = new Duration[ms.length];
        for (int i = 0; i < ms.length; i++) {
            d[i] = Duration.ofNanos((long) (ms[i] * 1_000_000));
        }
        return d;
    }

    static String tag(ApiKey api) {
        return api.name().toLowerCase(Locale.ROOT);
    }

    static String tag(ErrorCode error) {
        return error.name().toLowerCase(Locale.ROOT);
    }

    /** Binds everything to {@code registry}, the histograms included. */
    @Override
    public void bindTo(MeterRegistry registry) {
        bind(registry, registry, null);
    }

    /**
     * Binds the counters and gauges to {@code registry}, and the three histograms (request latency, fsync latency,
     * records per commit) to {@code histograms} only, with count-and-total views of them in {@code views}. The
     * histograms are recorded on the request and storage paths: they go to one registry, recorded directly (not
     * through a composite), and not to JMX, whose Dropwizard timers cost microseconds per update
     * (MetricsOverheadBenchmark); JMX gets the views. {@code histograms} null: no histograms at all (the observers
     * stay no-ops).
     */
    public synchronized void bind(MeterRegistry registry, MeterRegistry histograms, MeterRegistry views) {
        if (this.registry != null) {
            throw new IllegalStateException("already bound");
        }
        this.registry = registry;
        RequestMetrics requests = network.requests;
        if (histograms != null) {
            for (ApiKey api : ApiKey.values()) {
                Timer timer = Timer.builder("idemlog.request.latency")
                    .description("Time from a request's arrival to its answer being written (or dropped, acks=0), "
                        + "by API")
                    .tags("api", tag(api))
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(histograms);
                requests.observeLatency(api, nanos -> timer.record(nanos, TimeUnit.NANOSECONDS));
                timerView(views, timer);
            }
        }

        // produce (server-wide; per topic in refresh)
        counter("idemlog.produce.batches.appended", "Batches appended (all topics)", server.batchesAppended);
        counter("idemlog.produce.duplicate.batches", "Retried batches answered as duplicates (all topics)",
            server.duplicateBatches);
        counter("idemlog.produce.bytes.appended", "Bytes of batches appended (all topics)", server.bytesAppended);
        counter("idemlog.fetch.bytes", "Bytes of record batches served by Fetch", server.fetchBytes);
        counter("idemlog.producer.ids.allocated", "Producer ids handed out by InitProducerId",
            server.producerIdsAllocated);
        counter("idemlog.errors.internal", "Bugs caught at a boundary (the connection was closed)",
            server.internalErrors);
        counter("idemlog.errors.storage", "Storage failures outside produce (topic creation, producer-id blocks)",
            server.storageErrors);

        // producer state
        Gauge.builder("idemlog.producer.state.producers", this, m -> m.producerState(false))
            .description("Producers whose idempotence state is kept, summed over all partitions")
            .strongReference(true).register(registry);
        FunctionCounter.builder("idemlog.producer.state.evictions", this, m -> m.producerState(true))
            .description("Producers evicted by producer.state.max.producers.per.partition, summed over partitions")
            .register(registry);

        // de-duplication keys
        Gauge.builder("idemlog.dedup.keys", this, m -> m.dedupState(false))
            .description("De-duplication keys held in the partitions' windows, summed over all partitions")
            .strongReference(true).register(registry);
        FunctionCounter.builder("idemlog.dedup.evictions", this, m -> m.dedupState(true))
            .description("De-duplication keys evicted before their window ended (dedup.max.keys), summed over "
                + "partitions")
            .register(registry);

        // storage
        StorageMetrics storage = logs.metrics();
        if (histograms != null) {
            Timer fsync = Timer.builder("idemlog.storage.fsync")
                .description("Group-commit fsyncs of active segments (count and latency)")
                .serviceLevelObjectives(FSYNC_BUCKETS)
                .register(histograms);
            storage.fsyncLatencyObserver = nanos -> fsync.record(nanos, TimeUnit.NANOSECONDS);
            timerView(views, fsync);
            DistributionSummary perCommit = DistributionSummary.builder("idemlog.storage.group.commit.records")
                .description("Records made durable by one group-commit fsync")
                .baseUnit("records")
                .serviceLevelObjectives(RECORDS_BUCKETS)
                .register(histograms);
            storage.commitRecordsObserver = perCommit::record;
            if (views != null) {
                FunctionCounter.builder("idemlog.storage.group.commit.records.count", perCommit,
                        DistributionSummary::count)
                    .description("Group-commit fsyncs counted by the records-per-commit histogram").register(views);
                FunctionCounter.builder("idemlog.storage.group.commit.records.sum", perCommit,
                        DistributionSummary::totalAmount)
                    .description("Records made durable by group-commit fsyncs").register(views);
            }
        }
        counter("idemlog.storage.corrupt.batches.read", "Batches found damaged when read (not served)",
            storage.corruptBatchesRead);
        counter("idemlog.storage.bad.index.entries", "Sparse-index entries found wrong (the lookup scanned)",
            storage.badIndexEntries);
        counter("idemlog.storage.chunks.verified", "Chunks of sealed segments checked on first read after restart",
            storage.chunksVerified);
        counter("idemlog.storage.bytes.verified", "Bytes of sealed segments checked on first read after restart",
            storage.bytesVerified);
        counter("idemlog.storage.errors", "Write, fsync and seal failures (each takes its partition offline)",
            storage.storageErrors);
        counter("idemlog.storage.partitions.offline", "Partitions taken offline by a storage failure",
            storage.partitionsOffline);
        counter("idemlog.storage.flusher.failures", "Unexpected exceptions in a group commit (flusher or flushNow)",
            storage.flusherFailures);
        counter("idemlog.storage.callback.failures", "Durability callbacks that threw (a bug; logged)",
            storage.callbackFailures);
        counter("idemlog.storage.segments.sealed", "Segment rolls whose seal completed", storage.segmentsSealed);

        // network
        Gauge.builder("idemlog.network.connections", network,
                n -> n.connectionsOpened.sum() - n.connectionsClosed.sum())
            .description("Client connections open now").strongReference(true).register(registry);
        counter("idemlog.network.connections.opened", "Client connections accepted", network.connectionsOpened);
        counter("idemlog.network.connections.closed", "Client connections closed (by either side)",
            network.connectionsClosed);
        refused("oversized_frame", "frame size negative or above socket.request.max.bytes", network.oversizedFrames);
        refused("frame_timeout", "frame not complete within socket.request.read.timeout.ms", network.frameTimeouts);
        refused("malformed_request", "malformed request header or body", network.malformedRequests);
        refused("unsupported_request", "API key or version idemlog does not serve", network.unsupportedRequests);
        refused("handler_error", "a handler threw (a bug)", network.handlerErrors);
        refused("idle", "idle longer than connections.max.idle.ms", network.idleCloses);
        counter("idemlog.network.memory.waits", "Times a connection stopped reading at queued.max.request.bytes",
            network.memoryWaits);
        Gauge.builder("idemlog.network.request.memory", requestMemoryInUse, s -> s.getAsLong())
            .description("Bytes of requests being read or waiting to be handled (queued.max.request.bytes)")
            .baseUnit("bytes").strongReference(true).register(registry);
        counter("idemlog.network.bytes.in", "Bytes of requests read", network.bytesIn);
        counter("idemlog.network.bytes.out", "Bytes of responses written (zero-copy fetch data included)",
            network.bytesOut);
        refresh();
    }

    /** A count-and-total view of {@code timer} in {@code views} (JMX), if any. */
    private static void timerView(MeterRegistry views, Timer timer) {
        if (views != null) {
            FunctionTimer.builder(timer.getId().getName(), timer, Timer::count,
                    t -> t.totalTime(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS)
                .description(timer.getId().getDescription()).tags(timer.getId().getTags()).register(views);
        }
    }

    private void counter(String name, String description, LongAdder adder, String... tags) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).tags(tags).register(registry);
    }

    private void refused(String reason, String description, LongAdder adder) {
        FunctionCounter.builder("idemlog.network.refused", adder, LongAdder::sum)
            .description("Connections the server closed, by reason: " + description)
            .tags("reason", reason).register(registry);
    }

    private double producerState(boolean evictions) {
        long sum = 0;
        for (Map.Entry<String, Integer> t : logs.topics().entrySet()) {
            for (int p = 0; p < t.getValue(); p++) {
                Partition partition = logs.partition(t.getKey(), p);
                if (partition != null) {
                    sum += evictions ? partition.producerEvictions() : partition.producerCount();
                }
            }
        }
        return sum;
    }

    private double dedupState(boolean evictions) {
        long sum = 0;
        for (Map.Entry<String, Integer> t : logs.topics().entrySet()) {
            for (int p = 0; p < t.getValue(); p++) {
                Partition partition = logs.partition(t.getKey(), p);
                if (partition != null) {
                    sum += evictions ? partition.dedupEvictions() : partition.dedupKeys();
                }
            }
        }
        return sum;
    }

    /**
     * Registers the meters whose label values appeared since the last call (API versions and error codes seen,
     * topics produced to, counters added through {@link ServerMetrics#counter}) and removes those of topics
     * forgotten. Cheap when nothing changed (a scan of a few thousand slots).
     */
    public synchronized void refresh() {
        if (registry == null) {
            return;
        }
        RequestMetrics requests = network.requests;
        ErrorCode[] codes = ErrorCode.values();
        for (ApiKey api : ApiKey.values()) {
            for (int v = api.minVersion; v <= Math.min(api.maxVersion, RequestMetrics.VERSION_LIMIT - 1); v++) {
                Tags tags = Tags.of("api", tag(api), "version", Integer.toString(v));
                int slot = api.id * RequestMetrics.VERSION_LIMIT + v;
                LongAdder count = requests.requestCounter(api, v);
                if (count.sum() > 0 && requestSlots.add(slot)) {
                    FunctionCounter.builder("idemlog.requests", count, LongAdder::sum)
                        .description("Requests served, by API and version").tags(tags)
                        .register(registry);
                    failures(tags, "malformed", requests.failures(api, v, true));
                    failures(tags, "internal_error", requests.failures(api, v, false));
                }
                for (ErrorCode e : codes) {
                    LongAdder errors = requests.errorCounter(api, v, e);
                    if (errors == null) {
                        break; // none of this API and version yet
                    }
                    long key = ((long) slot << 16) | (e.code & 0xFFFF);
                    if (e != ErrorCode.NONE && errors.sum() > 0 && errorSlots.add(key)) {
                        FunctionCounter.builder("idemlog.request.errors", errors, LongAdder::sum)
                            .description("Error codes in answers (per partition, per topic or per request), by API, "
                                + "version and error")
                            .tags(tags.and("error", tag(e))).register(registry);
                    }
                }
            }
        }
        Set<String> live = new HashSet<>();
        for (TopicProduceMetrics t : server.topics()) {
            live.add(t.topic);
            if (!topicMeters.containsKey(t.topic)) {
                List<Meter> meters = new ArrayList<>();
                for (TopicProduceMetrics.Outcome o : TopicProduceMetrics.Outcome.values()) {
                    meters.add(FunctionCounter.builder("idemlog.produce.batches", t.batches(o), LongAdder::sum)
                        .description("Produced batches by topic and outcome: appended, duplicate (answered with the "
                            + "original offsets), out_of_order, fenced, corrupt, storage_error, other_error")
                        .tags("topic", t.topic, "outcome", o.tag).register(registry));
                }
                meters.add(FunctionCounter.builder("idemlog.produce.records", t.recordsAppended, LongAdder::sum)
                    .description("Records appended, by topic (duplicates not counted)")
                    .tags("topic", t.topic).register(registry));
                meters.add(FunctionCounter.builder("idemlog.dedup.records.dropped", t.recordsDeduplicated,
                        LongAdder::sum)
                    .description("Records not stored because their de-duplication key was stored within the "
                        + "window, by topic (docs/DEDUP.md)")
                    .tags("topic", t.topic).register(registry));
                meters.add(FunctionCounter.builder("idemlog.produce.bytes", t.bytesAppended, LongAdder::sum)
                    .description("Bytes of batches appended, by topic").baseUnit("bytes")
                    .tags("topic", t.topic).register(registry));
                topicMeters.put(t.topic, meters);
            }
        }
        for (Iterator<Map.Entry<String, List<Meter>>> it = topicMeters.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, List<Meter>> e = it.next();
            if (!live.contains(e.getKey())) {
                for (Meter m : e.getValue()) {
                    registry.remove(m);
                }
                it.remove();
            }
        }
        for (ServerMetrics.Extra x : server.extras()) {
            if (extras.add(x)) {
                String[] tags = x.tags().toArray(new String[0]);
                if (x.counter() != null) {
                    counter(x.name(), x.description(), x.counter(), tags);
                } else {
                    Gauge.builder(x.name(), x.gauge(), LongSupplier::getAsLong).description(x.description())
                        .tags(tags).strongReference(true).register(registry);
                }
            }
        }
    }

    private void failures(Tags tags, String reason, LongAdder adder) {
        FunctionCounter.builder("idemlog.request.failures", adder, LongAdder::sum)
            .description("Requests that closed their connection instead of being answered, by API, version and reason")
            .tags(tags.and("reason", reason)).register(registry);
    }
}
