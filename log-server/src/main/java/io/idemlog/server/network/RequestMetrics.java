package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests and their errors by API and version, and the request latency hook: cheap counters (LongAdder) that the
 * metrics registry reads (docs/OPERATIONS.md); nothing here imports a metrics library.
 *
 * <p>Requests are counted by the connection once the API and version are known to be served; errors by the handler
 * through {@link RequestContext#countError} (an error code in the answer: per partition for Produce, Fetch and
 * ListOffsets, per topic for Metadata, per request otherwise), and by the connection for requests that closed it
 * (malformed, or a handler that threw). The per-error counters of an (api, version) are allocated on its first
 * error; after that, counting allocates nothing.
 */
public final class RequestMetrics {
    /** One above the highest version of any API counted (Kafka 4.x stops near 17). */
    public static final int VERSION_LIMIT = 32;
    /** Slot of error code c is c + 1 (UNKNOWN_SERVER_ERROR is -1); codes at or above this minus one go to the last. */
    static final int ERROR_SLOTS = 130;

    /** Observes one request's latency in nanoseconds (the registry's timer; {@link #NONE} without one). */
    @FunctionalInterface
    public interface LatencyObserver {
        void record(long nanos);
    }

    public static final LatencyObserver NONE = nanos -> {
    };

    private final LongAdder[] requests = new LongAdder[ApiKey.ID_LIMIT * VERSION_LIMIT];
    private final LongAdder[] malformed = new LongAdder[ApiKey.ID_LIMIT * VERSION_LIMIT];
    private final LongAdder[] internal = new LongAdder[ApiKey.ID_LIMIT * VERSION_LIMIT];
    private final AtomicReferenceArray<LongAdder[]> errors =
        new AtomicReferenceArray<>(ApiKey.ID_LIMIT * VERSION_LIMIT);
    private final LatencyObserver[] latency = new LatencyObserver[ApiKey.ID_LIMIT];

    public RequestMetrics() {
        for (ApiKey api : ApiKey.values()) {
            for (int v = api.minVersion; v <= Math.min(api.maxVersion, VERSION_LIMIT - 1); v++) {
                int slot = slot(api, v);
                requests[slot] = new LongAdder();
                malformed[slot] = new LongAdder();
                internal[slot] = new LongAdder();
            }
            latency[api.id] = NONE;
        }
    }

    private static int slot(ApiKey api, int version) {
        return api.id * VERSION_LIMIT + version;
    }

    private static boolean counted(ApiKey api, int version) {
        return version >= api.minVersion && version <= api.maxVersion && version < VERSION_LIMIT;
    }

    /** A request of a served API and version arrived (connection thread; public for the metrics benchmark). */
    public void request(ApiKey api, short version) {
        if (counted(api, version)) {
            requests[slot(api, version)].increment();
        }
    }

    /** The request closed its connection: malformed ({@code true}) or a handler bug ({@code false}). */
    void failed(ApiKey api, short version, boolean malformedRequest) {
        if (counted(api, version)) {
            (malformedRequest ? malformed : internal)[slot(api, version)].increment();
        }
    }

    /** An answer (or a part of it) carries {@code error}; NONE is not counted. Any thread. */
    public void error(ApiKey api, short version, ErrorCode error) {
        if (error == ErrorCode.NONE || !counted(api, version)) {
            return;
        }
        int slot = slot(api, version);
        LongAdder[] byCode = errors.get(slot);
        if (byCode == null) {
            LongAdder[] fresh = new LongAdder[ERROR_SLOTS];
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = new LongAdder();
            }
            byCode = errors.compareAndSet(slot, null, fresh) ? fresh : errors.get(slot);
        }
        byCode[errorSlot(error.code)].increment();
    }

    private static int errorSlot(int code) {
        return Math.max(0, Math.min(code + 1, ERROR_SLOTS - 1));
    }

    /** Requests of this API and version served so far. */
    public long requests(ApiKey api, int version) {
        return counted(api, version) ? requests[slot(api, version)].sum() : 0;
    }

    /** Answers (or answer parts) of this API and version that carried {@code error}. */
    public long errors(ApiKey api, int version, ErrorCode error) {
        LongAdder a = errorCounter(api, version, error);
        return a == null ? 0 : a.sum();
    }

    /** The counter behind {@link #errors}, or null while none of that API and version has been counted. */
    public LongAdder errorCounter(ApiKey api, int version, ErrorCode error) {
        if (!counted(api, version)) {
            return null;
        }
        LongAdder[] byCode = errors.get(slot(api, version));
        return byCode == null ? null : byCode[errorSlot(error.code)];
    }

    /** Requests of this API and version that closed their connection: malformed, or a handler that threw. */
    public LongAdder failures(ApiKey api, int version, boolean malformedRequest) {
        return counted(api, version) ? (malformedRequest ? malformed : internal)[slot(api, version)] : null;
    }

    /** The counter behind {@link #requests}, or null for a version idemlog does not serve. */
    public LongAdder requestCounter(ApiKey api, int version) {
        return counted(api, version) ? requests[slot(api, version)] : null;
    }

    /** Sets the latency observer of an API (before the listener starts). */
    public void observeLatency(ApiKey api, LatencyObserver observer) {
        latency[api.id] = observer == null ? NONE : observer;
    }

    /** A request of {@code api} was answered {@code nanos} after it arrived (connection thread; public for benchmarks). */
    public void latency(ApiKey api, long nanos) {
        latency[api.id].record(nanos);
    }
}
