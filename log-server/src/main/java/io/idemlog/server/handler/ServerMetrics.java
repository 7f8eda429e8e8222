package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Server counters, updated from any thread without contention (LongAdder), read for logs and tests. */
public final class ServerMetrics {
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
