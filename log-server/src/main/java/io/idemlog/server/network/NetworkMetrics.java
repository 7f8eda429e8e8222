package io.idemlog.server.network;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the network layer (refusals and back-pressure), updated by every event loop without contention. */
public final class NetworkMetrics {
    /** Connections closed because a frame's size was negative or above socket.request.max.bytes. */
    public final LongAdder oversizedFrames = new LongAdder();
    /** Connections closed because a started frame was not complete within socket.request.read.timeout.ms. */
    public final LongAdder frameTimeouts = new LongAdder();
    /** Times a connection stopped reading because queued.max.request.bytes was reached. */
    public final LongAdder memoryWaits = new LongAdder();
    /** Connections closed for a malformed request header or body. */
    public final LongAdder malformedRequests = new LongAdder();
    /** Connections closed for an api key or version idemlog does not serve. */
    public final LongAdder unsupportedRequests = new LongAdder();
    /** Connections closed because a handler threw (a bug). */
    public final LongAdder handlerErrors = new LongAdder();
    /** Connections closed for being idle longer than connections.max.idle.ms. */
    public final LongAdder idleCloses = new LongAdder();
    /** Connections accepted since the start. */
    public final LongAdder connectionsOpened = new LongAdder();
    /** Connections closed since the start (by either side); open = opened - closed. */
    public final LongAdder connectionsClosed = new LongAdder();
    /** Bytes of request frames read (size prefix included). */
    public final LongAdder bytesIn = new LongAdder();
    /** Bytes of responses written (size prefix and zero-copy file regions included). */
    public final LongAdder bytesOut = new LongAdder();
    /** Requests and errors by API and version, and the request latency hook. */
    public final RequestMetrics requests = new RequestMetrics();

    /** Every counter by name, with the request memory in use. */
    public Map<String, Long> snapshot(RequestMemory memory) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("network.oversized_frames", oversizedFrames.sum());
        m.put("network.frame_timeouts", frameTimeouts.sum());
        m.put("network.memory_waits", memoryWaits.sum());
        m.put("network.malformed_requests", malformedRequests.sum());
        m.put("network.unsupported_requests", unsupportedRequests.sum());
        m.put("network.handler_errors", handlerErrors.sum());
        m.put("network.idle_closes", idleCloses.sum());
        m.put("network.request_bytes_in_use", memory.used());
        m.put("network.connections_opened", connectionsOpened.sum());
        m.put("network.connections_closed", connectionsClosed.sum());
        m.put("network.bytes_in", bytesIn.sum());
        m.put("network.bytes_out", bytesOut.sum());
        return m;
    }
}
