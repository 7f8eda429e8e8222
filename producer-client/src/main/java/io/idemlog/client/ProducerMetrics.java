package io.idemlog.client;

/**
 * Counters and gauges of one producer, readable from any thread. Counters are monotonic since the producer was
 * created; values are read without locks, so two of them read together may be a few events apart.
 */
public interface ProducerMetrics {
    /** Records acknowledged by the server (or handed to the network with acks=0). */
    long recordsSent();

    /** Records whose send failed (future/callback completed with an exception). */
    long recordsFailed();

    /** Batch sends, first attempts and retries together. */
    long batchesSent();

    /** Batch sends that were retries of a batch sent before. */
    long batchesRetried();

    /** Produce requests sent. */
    long requestsSent();

    /** Requests sent and not yet answered, over all connections. */
    int requestsInFlight();

    /** Batch-level errors the server answered with this Kafka error code (0..127), counting every attempt. */
    long errors(int errorCode);

    /** Requests that timed out or whose connection was lost before the answer. */
    long connectionFailures();

    /** Requests whose answer did not come within request.timeout.ms (the connection was closed). */
    long requestTimeouts();

    /**
     * Answers found lost on a live connection: a later request's answer came first (answers come in request
     * order, so the earlier one will never come); their batches were re-sent at once.
     */
    long answersLost();

    /** Lost-answer probes sent (answer.probe.ms): small Metadata requests after a quiet time with requests in flight. */
    long probesSent();

    /**
     * Connections given up as stalled (stall.timeout.ms): the oldest request waited past the adaptive stall bound,
     * shorter than request.timeout.ms; what was in flight was re-sent on a new connection.
     */
    long stalledConnections();

    /** Bytes of buffer memory held by batches not yet completed. */
    long bufferPoolUsedBytes();

    /** Bytes of buffer memory still available to new batches ({@code buffer.memory} minus used). */
    long bufferPoolAvailableBytes();

    /** Threads currently blocked in send() waiting for buffer memory. */
    int bufferPoolWaiters();

    /** Local epoch bumps after unresolved or failed sequences (KIP-360 style). */
    long epochBumps();

    /** InitProducerId answers received (1 at start, more when an epoch was exhausted). */
    long producerIdsReceived();

    /** Metadata answers received. */
    long metadataRefreshes();

    /**
     * Bugs caught at a boundary (the I/O thread's run, send()): each failed what it touched loudly (the producer,
     * or the one send) instead of being swallowed. Should stay 0.
     */
    long internalErrors();
}
