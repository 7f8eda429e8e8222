package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Server counters, updated from any thread without contention (LongAdder), read for logs and tests, and bound to
 * the metrics registry by {@code io.idemlog.server.metrics.ServerMeters} (docs/OPERATIONS.md).
 *
 * <p>Adding a counter is one line where it is counted (see /work/notes/h10-metrics-api.md):
 * {@code private final LongAdder creations = broker.metrics().counter("idemlog.admin.topic.creations",
 * "Topics created by CreateTopics");} then {@code creations.increment()}. It appears on the Prometheus endpoint
 * ({@code idemlog_admin_topic_creations_total}) and in JMX at the next scrape, with no other change.
 */
public final class ServerMetrics {
    /** A counter or gauge added through {@link #counter} or {@link #gauge}: name, help, tags (key, value, ...). */
    public record Extra(String name, String description, List<String> tags, LongAdder counter, LongSupplier gauge) {
    }

    private final Map<String, Extra> extras = new ConcurrentHashMap<>();
    private final Map<String, TopicProduceMetrics> topics = new ConcurrentHashMap<>();
    private final LongAdder[] requests = new LongAdder[ApiKey.ID_LIMIT];
    private final LongAdder[] produceErrors = new LongAdder[128];
    public final LongAdder batchesAppended = new LongAdder();
    public final LongAdder duplicateBatches = new LongAdder();
    public final LongAdder bytesAppended = new LongAdder();
    /** Records not stored because their de-duplication key was stored within the window (all topics). */
    public final LongAdder recordsDeduplicated = new LongAdder();
    public final LongAdder fetchBytes = new LongAdder();
    public final LongAdder producerIdsAllocated = new LongAdder();
    /** Bugs caught at a boundary (a handler or hand-off that threw): logged, counted, the connection closed. */
    public final LongAdder internalErrors = new LongAdder();
    /** Storage failures answered with KAFKA_STORAGE_ERROR outside produce (topic creation, producer-id blocks). */
    public final LongAdder storageErrors = new LongAdder();

    public ServerMetrics() {
        for (int i = 0; i < requests.length; i++) {
            requests[i] = new LongAdder();
        }
        for (int i = 0; i < produceErrors.length; i++) {
            produceErrors[i] = new LongAdder();
        }
    }

    void request(ApiKey api) {
        requests[api.id].increment();
    }

    void produceError(ErrorCode error) {
        if (error.code >= 0 && error.code < produceErrors.length) {
            produceErrors[error.code].increment();
        }
    }

    /**
     * A counter, registered in the metrics under {@code name} (dotted, lower case, Micrometer style: the Prometheus
     * name is it with _ for . and a _total suffix; do not end it in "created", Prometheus drops such a suffix) and
     * {@code tags} (key, value, key, value ...). The same name and tags give the same counter. Call it once (keep
     * the LongAdder in a field), not per request.
     */
    public LongAdder counter(String name, String description, String... tags) {
        return extras.computeIfAbsent(key(name, tags),
            k -> new Extra(name, description, List.of(tags), new LongAdder(), null)).counter();
    }

    /** A gauge: {@code value} is read at each scrape (any thread); it must be cheap and must not block. */
    public void gauge(String name, String description, LongSupplier value, String... tags) {
        extras.putIfAbsent(key(name, tags), new Extra(name, description, List.of(tags), null, value));
    }

    private static String key(String name, String... tags) {
        if (tags.length % 2 != 0) {
            throw new IllegalArgumentException("tags must be key, value pairs: " + Arrays.toString(tags));
        }
        return name + Arrays.toString(tags);
    }

    /** Every counter and gauge added through {@link #counter} and {@link #gauge}. */
    public Collection<Extra> extras() {
        return extras.values();
    }

    /** The produce counters of an existing topic (made on first use, then cached). */
    public TopicProduceMetrics topic(String name) {
        TopicProduceMetrics t = topics.get(name);
        return t != null ? t : topics.computeIfAbsent(name, TopicProduceMetrics::new);
    }

    /** Every topic that has been produced to, with its counters. */
    public Collection<TopicProduceMetrics> topics() {
        return topics.values();
    }

    /** Drops a deleted topic's counters (its meters disappear at the next scrape). */
    public void forgetTopic(String name) {
        topics.remove(name);
    }

    public long requests(ApiKey api) {
        return requests[api.id].sum();
    }

    public long produceErrors(ErrorCode error) {
        return error.code >= 0 && error.code < produceErrors.length ? produceErrors[error.code].sum() : 0;
    }

    /** Every non-zero counter by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (ApiKey api : ApiKey.values()) {
            long n = requests(api);
            if (n > 0) {
                m.put("requests." + api.name().toLowerCase(), n);
            }
        }
        m.put("produce.batches_appended", batchesAppended.sum());
        m.put("produce.duplicate_batches", duplicateBatches.sum());
        m.put("produce.bytes_appended", bytesAppended.sum());
        m.put("produce.records_deduplicated", recordsDeduplicated.sum());
        for (ErrorCode e : ErrorCode.values()) {
            long n = produceErrors(e);
            if (n > 0) {
                m.put("produce.errors." + e.name().toLowerCase(), n);
            }
        }
        m.put("fetch.bytes", fetchBytes.sum());
        m.put("producer_ids.allocated", producerIdsAllocated.sum());
        m.put("errors.internal", internalErrors.sum());
        m.put("errors.storage", storageErrors.sum());
        return m;
    }
}
