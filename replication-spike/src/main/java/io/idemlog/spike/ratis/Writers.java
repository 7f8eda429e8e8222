package io.idemlog.spike.ratis;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/** SPIKE: the two load shapes of the driver. */
final class Writers {
    private Writers() {
    }

    /** The outcome of one acknowledged batch, as the client saw it. */
    record Ack(long tag, int baseSequence, byte outcome, long baseOffset, int server, long sentNanos,
               long doneNanos) {
    }

    /**
     * Throughput: up to {@code window} batches in flight per partition through Ratis's ordered async API (which
     * keeps them in send order, so sequence numbers stay contiguous). Latency = send to committed-and-applied
     * reply, i.e. what acks=all would wait for.
     */
    static final class Pipelined implements Runnable {
        final RaftClient client;
        final BatchFactory batches;
        final long producerId;
        final Semaphore window;
        final int windowSize;
        final long endNanos;
        final long measureFromNanos;
        final Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        final AtomicLong acked = new AtomicLong();
        final AtomicLong measuredBatches = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong notAppended = new AtomicLong();
        volatile Throwable firstError;
        private int sequence;
        private long tag;

        Pipelined(RaftClient client, BatchFactory batches, long producerId, int window, long endNanos,
                  long measureFromNanos) {
            this.client = client;
            this.batches = batches;
            this.producerId = producerId;
            this.window = new Semaphore(window);
            this.windowSize = window;
            this.endNanos = endNanos;
            this.measureFromNanos = measureFromNanos;
        }

        @Override
        public void run() {
            while (System.nanoTime() - endNanos < 0) {
                try {
                    if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                byte[] b = batches.batch(producerId, (short) 0, sequence, tag++);
                sequence += batches.records();
                long sent = System.nanoTime();
                client.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(b)))
                    .whenComplete((reply, error) -> {
                        long done = System.nanoTime();
                        if (error != null || !reply.isSuccess()) {
                            failed.incrementAndGet();
                            if (firstError == null) {
                                firstError = error != null ? error : reply.getException();
                            }
                        } else {
                            acked.incrementAndGet();
                            if (outcome(reply) != EntryLayout.APPENDED) {
                                notAppended.incrementAndGet();
                            }
                            if (sent - measureFromNanos >= 0 && done - endNanos < 0) {
                                latency.recordValue(done - sent);
                                measuredBatches.incrementAndGet();
                            }
                        }
                        window.release();
                    });
            }
        }

        /** Waits for the batches still in flight. */
        boolean drain(long timeoutMs) throws InterruptedException {
            if (window.tryAcquire(windowSize, timeoutMs, TimeUnit.MILLISECONDS)) {
                window.release(windowSize);
                return true;
            }
            return false;
        }

        Histogram histogram() {
            return latency.getIntervalHistogram();
        }
    }

    /**
     * Fault tests: one batch at a time per partition; any failure (timeout, dead or deposed leader) re-sends the
     * SAME batch (same sequence) as a NEW Ratis request, as a Kafka producer does after a timeout. Ratis's retry
     * cache cannot recognise a new request: only the replicated producer state can answer it as a duplicate.
     */
    static final class Sequential implements Runnable {
        final int partition;
        final RaftClient client;
        final BatchFactory batches;
        final long producerId;
        final List<Ack> acks = new ArrayList<>();
        final AtomicLong resends = new AtomicLong();
        /** Why re-sends happened, by exception (class of the cause chain's root, and the server that answered). */
        final java.util.concurrent.ConcurrentHashMap<String, Integer> errors = new java.util.concurrent.ConcurrentHashMap<>();
        volatile boolean running = true;
        volatile Ack last;
        private int sequence;
        private long tag;

        Sequential(int partition, RaftClient client, BatchFactory batches, long producerId) {
            this.partition = partition;
            this.client = client;
            this.batches = batches;
            this.producerId = producerId;
        }

        @Override
        public void run() {
            while (running) {
                byte[] b = batches.batch(producerId, (short) 0, sequence, tag);
                while (running) {
                    long sent = System.nanoTime();
                    try {
                        RaftClientReply reply = client.io().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(b)));
                        if (reply.isSuccess()) {
                            ByteBuffer r = reply.getMessage().getContent().asReadOnlyByteBuffer();
                            int p = r.position();
                            Ack ack = new Ack(tag, sequence, r.get(p + EntryLayout.REPLY_OUTCOME_OFFSET),
                                r.getLong(p + EntryLayout.REPLY_BASE_OFFSET_OFFSET),
                                SpikeCluster.index(reply.getServerId()), sent, System.nanoTime());
                            synchronized (acks) {
                                acks.add(ack);
                            }
                            last = ack;
                            break;
                        }
                    } catch (Exception e) {
                        // timeout, connection refused, not leader: re-send below
                        Throwable root = e;
                        while (root.getCause() != null && root.getCause() != root) {
                            root = root.getCause();
                        }
                        errors.merge(root.getClass().getSimpleName(), 1, Integer::sum);
                    }
                    resends.incrementAndGet();
                    // the producer's retry backoff (Kafka's retry.backoff.ms), not a synchronisation
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
                sequence += batches.records();
                tag++;
            }
        }

        /** The first ack completed at or after {@code nanos} by a node other than {@code notFrom}, or null. */
        Ack firstAckAfter(long nanos, int notFrom) {
            synchronized (acks) {
                for (Ack a : acks) {
                    if (a.doneNanos() - nanos >= 0 && a.server() != notFrom) {
                        return a;
                    }
                }
                return null;
            }
        }

        /** The first ack completed at or after {@code nanos}, or null. */
        Ack firstAckAfter(long nanos) {
            synchronized (acks) {
                for (int i = acks.size() - 1; i >= 0; i--) {
                    Ack a = acks.get(i);
                    if (a.doneNanos() - nanos < 0) {
                        return i + 1 < acks.size() ? acks.get(i + 1) : null;
                    }
                }
                return acks.isEmpty() ? null : acks.get(0);
            }
        }

        List<Ack> snapshot() {
            synchronized (acks) {
                return new ArrayList<>(acks);
            }
        }
    }

    static byte outcome(RaftClientReply reply) {
        ByteBuffer r = reply.getMessage().getContent().asReadOnlyByteBuffer();
        return r.get(r.position() + EntryLayout.REPLY_OUTCOME_OFFSET);
    }
}
