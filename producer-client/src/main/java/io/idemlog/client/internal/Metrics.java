package io.idemlog.client.internal;

import io.idemlog.client.ProducerMetrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The producer's counters. Almost all are written by the I/O thread only; they are atomics so that any thread
 * can read them. The buffer pool gauges are read from the pool itself.
 */
public final class Metrics implements ProducerMetrics {
    private final AtomicLong recordsSent = new AtomicLong();
    private final AtomicLong recordsFailed = new AtomicLong();
    private final AtomicLong batchesSent = new AtomicLong();
    private final AtomicLong batchesRetried = new AtomicLong();
    private final AtomicLong requestsSent = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLongArray errors = new AtomicLongArray(128);
    private final AtomicLong connectionFailures = new AtomicLong();
    private final AtomicLong epochBumps = new AtomicLong();
    private final AtomicLong producerIds = new AtomicLong();
    private final AtomicLong metadataRefreshes = new AtomicLong();
    private final AtomicLong internalErrors = new AtomicLong();
    private final AtomicLong requestTimeouts = new AtomicLong();
    private final AtomicLong answersLost = new AtomicLong();
    private final AtomicLong probesSent = new AtomicLong();
    private final AtomicLong stalledConnections = new AtomicLong();
    private volatile BufferPool pool;

    public void bind(BufferPool pool) {
        this.pool = pool;
    }

    public void recordsSent(int n) {
        recordsSent.addAndGet(n);
    }

    public void recordsFailed(int n) {
        recordsFailed.addAndGet(n);
    }

    public void batchSent(boolean retry) {
        batchesSent.incrementAndGet();
        if (retry) {
            batchesRetried.incrementAndGet();
        }
    }

    public void requestSent() {
        requestsSent.incrementAndGet();
    }

    public void inFlightDelta(int delta) {
        inFlight.addAndGet(delta);
    }

    public void error(short code) {
        if (code >= 0 && code < 128) {
            errors.incrementAndGet(code);
        }
    }

    public void connectionFailure() {
        connectionFailures.incrementAndGet();
    }

    public void epochBump() {
        epochBumps.incrementAndGet();
    }

    public void producerIdReceived() {
        producerIds.incrementAndGet();
    }

    public void metadataRefreshed() {
        metadataRefreshes.incrementAndGet();
    }

    public void requestTimedOut() {
        requestTimeouts.incrementAndGet();
    }

    public void answerLost() {
        answersLost.incrementAndGet();
    }

    public void probeSent() {
        probesSent.incrementAndGet();
    }

    public void connectionStalled() {
        stalledConnections.incrementAndGet();
    }

    @Override
    public long requestTimeouts() {
        return requestTimeouts.get();
    }

    @Override
    public long answersLost() {
        return answersLost.get();
    }

    @Override
    public long probesSent() {
        return probesSent.get();
    }

    @Override
    public long stalledConnections() {
        return stalledConnections.get();
    }

    public void internalError() {
        internalErrors.incrementAndGet();
    }

    @Override
    public long internalErrors() {
        return internalErrors.get();
    }

    @Override
    public long recordsSent() {
        return recordsSent.get();
    }

    @Override
    public long recordsFailed() {
        return recordsFailed.get();
    }

    @Override
    public long batchesSent() {
        return batchesSent.get();
    }

    @Override
    public long batchesRetried() {
        return batchesRetried.get();
    }

    @Override
    public long requestsSent() {
        return requestsSent.get();
    }

    @Override
    public int requestsInFlight() {
        return (int) inFlight.get();
    }

    @Override
    public long errors(int errorCode) {
        return errorCode >= 0 && errorCode < 128 ? errors.get(errorCode) : 0L;
    }

    @Override
    public long connectionFailures() {
        return connectionFailures.get();
    }

    @Override
    public long bufferPoolUsedBytes() {
        BufferPool p = pool;
        return p == null ? 0L : p.usedMemory();
    }

    @Override
    public long bufferPoolAvailableBytes() {
        BufferPool p = pool;
        return p == null ? 0L : p.availableMemory();
    }

    @Override
    public int bufferPoolWaiters() {
        BufferPool p = pool;
        return p == null ? 0 : p.waiters();
    }

    @Override
    public long epochBumps() {
        return epochBumps.get();
    }

    @Override
    public long producerIdsReceived() {
        return producerIds.get();
    }

    @Override
    public long metadataRefreshes() {
        return metadataRefreshes.get();
    }

    @Override
    public String toString() {
        return "ProducerMetrics(recordsSent=" + recordsSent() + ", recordsFailed=" + recordsFailed()
            + ", batchesSent=" + batchesSent() + ", batchesRetried=" + batchesRetried() + ", requestsSent="
            + requestsSent() + ", inFlight=" + requestsInFlight() + ", connectionFailures=" + connectionFailures()
            + ", epochBumps=" + epochBumps() + ", requestTimeouts=" + requestTimeouts() + ", answersLost="
            + answersLost() + ", probesSent=" + probesSent() + ", stalledConnections=" + stalledConnections()
            + ", poolUsed=" + bufferPoolUsedBytes() + ")";
    }
}
