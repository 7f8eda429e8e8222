package io.idemlog.server.network;

import org.agrona.concurrent.NanoClock;

/**
 * What every connection of a listener shares: the limits, the request memory bound, the counters and the log rate
 * limit.
 *
 * @param maxFrameBytes  socket.request.max.bytes: a larger (or negative) frame size closes the connection
 * @param frameTimeoutMs socket.request.read.timeout.ms: a started frame must be complete within this long while
 *                       the server reads (0 = no deadline)
 * @param maxQueued      queued.max.requests.per.connection: requests waiting for their answer before the
 *                       connection stops reading
 * @param memory         queued.max.request.bytes, shared by every connection
 * @param metrics        the network counters
 * @param logLimiter     the rate limit of per-connection log lines
 * @param clock          the time of frame deadlines (injected: tests move it with the embedded event loop's)
 * @param oneAtATimeNonIdempotent produce.non.idempotent.one.at.a.time: a Produce without a producer id holds
 *                       reading until answered
 */
record ConnectionShared(int maxFrameBytes, long frameTimeoutMs, int maxQueued, RequestMemory memory,
                        NetworkMetrics metrics, LogLimiter logLimiter, NanoClock clock,
                        boolean oneAtATimeNonIdempotent) {
    ConnectionShared(int maxFrameBytes, long frameTimeoutMs, int maxQueued, RequestMemory memory,
                     NetworkMetrics metrics, LogLimiter logLimiter, NanoClock clock) {
        this(maxFrameBytes, frameTimeoutMs, maxQueued, memory, metrics, logLimiter, clock, false);
    }
}
