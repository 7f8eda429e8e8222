package io.idemlog.client;

import io.idemlog.client.internal.Accumulator;
import io.idemlog.client.internal.BufferPool;
import io.idemlog.client.internal.Cluster;
import io.idemlog.client.internal.Metadata;
import io.idemlog.client.internal.Metrics;
import io.idemlog.client.internal.PartitionQueue;
import io.idemlog.client.internal.Partitioner;
import io.idemlog.client.internal.Sender;
import io.idemlog.client.internal.net.IoLoop;
import io.idemlog.client.internal.net.NettyTransport;
import io.idemlog.common.record.Header;

import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An idempotent producer speaking the Kafka protocol: to idemlog servers and to Apache Kafka brokers alike.
 *
 * <pre>{@code
 * try (IdemlogProducer producer = IdemlogProducer.create(ProducerConfig.builder()
 *         .bootstrapServers("127.0.0.1:9092").build())) {
 *     producer.send("orders", key, value).thenAccept(md -> ...);      // future form
 *     producer.send("orders", key, value, (md, e) -> ...);           // callback form
 *     producer.flush();
 * }
 * }</pre>
 *
 * <p><b>Guarantees</b> (with the default {@code enable.idempotence=true}): a record is written at most once per
 * send() even when batches are retried after lost answers, timeouts or leader changes, and the records of one
 * partition are written in the order send() was called for them. A record whose future fails with an exception
 * whose {@link ProducerException#mayHaveBeenWritten()} is true may nevertheless be in the log.
 *
 * <p><b>Partitioning</b>: an explicit partition wins; else a record with a key goes to
 * {@code toPositive(murmur2(key)) % partitions}, exactly as with kafka-clients' default partitioner; records
 * without a key stick to one partition until the batch they fill is closed, then move to another (KIP-480).
 *
 * <p><b>Threads</b>: send() is thread-safe and never waits for the network; it blocks only while the topic's
 * metadata is unknown or all of {@code buffer.memory} is in use, both up to {@code max.block.ms}. Futures are
 * completed and callbacks run on the producer's single I/O thread: keep them short, and do not call
 * {@link #flush()} or {@link #close()} from them.
 */
public final class IdemlogProducer implements AutoCloseable {
    /** Pass as the partition to let the producer choose (key hash, or sticky for records without key). */
    public static final int AUTO_PARTITION = -1;

    private final ProducerConfig config;
    private final Metrics metrics = new Metrics();
    private final BufferPool pool;
    private final Accumulator accumulator;
    private final Metadata metadata;
    private final Sender sender;
    private final IoLoop io;
    private final NettyTransport transport;
    private final Runnable wakeup;
    private final Object closeLock = new Object();
    private volatile boolean closed;
    private boolean shutDown;

    private IdemlogProducer(ProducerConfig config) {
        this.config = config;
        this.pool = new BufferPool(config.bufferMemory(), config.batchSize());
        metrics.bind(pool);
        int maxUnacked = config.maxInFlightRequestsPerConnection();
        this.accumulator = new Accumulator(config.batchSize(), config.lingerMs(), config.deliveryTimeoutMs(), pool,
            config.idempotence(), maxUnacked, config.compression(), config.compressionLevel());
        this.metadata = new Metadata(Metadata.bootstrapNodes(config.bootstrapServers()), config.metadataMaxAgeMs(),
            config.retryBackoffMs());
        this.io = new IoLoop("idemlog-producer-io-" + config.clientId(), System::currentTimeMillis,
            metrics::internalError);
        this.wakeup = io::wakeup;
        this.transport = new NettyTransport(io.loop(), io.bootstrap(), config.clientId(),
            config.reconnectBackoffMs(), config.reconnectBackoffMaxMs(), (int) Math.min(config.requestTimeoutMs(), config.connectionSetupTimeoutMs()),
            config.sendBufferBytes(), config.receiveBufferBytes(), System::currentTimeMillis, wakeup);
        this.sender = new Sender(config, accumulator, metadata, transport, metrics);
        io.start(sender);
    }

    /** Starts a producer: connects to the bootstrap servers in the background and returns at once. */
    public static IdemlogProducer create(ProducerConfig config) {
        return new IdemlogProducer(Objects.requireNonNull(config, "config"));
    }

    /** Starts a producer from Kafka-style properties (see {@link ProducerConfig#fromProperties}). */
    public static IdemlogProducer create(Properties properties) {
        return create(ProducerConfig.fromProperties(properties));
    }

    public ProducerConfig config() {
        return config;
    }

    /** Live counters and gauges. */
    public ProducerMetrics metrics() {
        return metrics;
    }

    /** Which Netty transport the I/O thread uses: "epoll" or "nio". */
    public String networkTransport() {
        return io.transportName();
    }

    // ---------------------------------------------------------------------------------------------------------
    // send

    /** Sends a record; the future completes when it is acknowledged (see the class comment for threads). */
    public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value) {
        return send(topic, AUTO_PARTITION, key, value, null);
    }

    /** Sends a record with headers (may be null). */
    public CompletableFuture<RecordMetadata> send(String topic, byte[] key, byte[] value, Header[] headers) {
        return send(topic, AUTO_PARTITION, key, value, headers);
    }

    /**
     * Sends a record to an explicit partition ({@link #AUTO_PARTITION} to let the producer choose).
     * Failures, including those found before anything is sent (a too-large record, a full buffer after
     * {@code max.block.ms}), complete the future exceptionally with a {@link ProducerException}.
     */
    public CompletableFuture<RecordMetadata> send(String topic, int partition, byte[] key, byte[] value,
                                                  Header[] headers) {
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        try {
            doSend(topic, partition, key, value, headers, future);
        } catch (ProducerException e) {
            future.completeExceptionally(e);
        }
        return future;
    }

    /**
     * Sends a record and tells {@code callback} the outcome. The callback may be null (fire and forget: failures
     * are then visible only in {@link #metrics()}). Errors found before anything is sent are given to the callback
     * on the calling thread; all others on the I/O thread. With a null or shared callback this form allocates
     * nothing per record.
     */
    public void send(String topic, byte[] key, byte[] value, Callback callback) {
        send(topic, AUTO_PARTITION, key, value, null, callback);
    }

    /** Callback form with explicit partition ({@link #AUTO_PARTITION} to let the producer choose) and headers. */
    public void send(String topic, int partition, byte[] key, byte[] value, Header[] headers, Callback callback) {
        try {
            doSend(topic, partition, key, value, headers, callback);
        } catch (ProducerException e) {
            if (callback != null) {
                callback.onCompletion(null, e);
            }
        }
    }

    private void doSend(String topic, int partition, byte[] key, byte[] value, Header[] headers, Object completion) {
        Objects.requireNonNull(topic, "topic");
        ProducerException fatal = sender.fatalError();
        if (fatal != null) {
            throw fatal;
        }
        if (closed) {
            throw new ProducerClosedException("send() after close()", false);
        }
        int size = Accumulator.batchSizeFor(key, value, headers);
        if (size > config.maxRequestSize()) {
            throw new RecordTooLargeException("The record is " + size + " bytes in a batch, which is larger than "
                + ProducerConfig.MAX_REQUEST_SIZE + " (" + config.maxRequestSize() + ")");
        }
        if (size > config.bufferMemory()) {
            throw new RecordTooLargeException("The record is " + size + " bytes in a batch, which is larger than "
                + ProducerConfig.BUFFER_MEMORY + " (" + config.bufferMemory() + ")");
        }
        long maxBlockMs = config.maxBlockMs();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxBlockMs);
        try {
            Cluster.TopicInfo info = metadata.awaitTopic(topic, deadline, maxBlockMs, wakeup);
            int count = info.partitionCount();
            long now = System.currentTimeMillis();
            Accumulator.AppendResult result;
            if (partition != AUTO_PARTITION) {
                if (partition < 0 || partition >= count) {
                    throw new ProducerException("partition " + partition + " of topic " + topic
                        + " does not exist: the topic has " + count + " partition(s)");
                }
                result = append(topic, partition, key, value, headers, completion, now, deadline, false);
            } else if (key != null) {
                int p = Partitioner.partitionForKey(key, count);
                result = append(topic, p, key, value, headers, completion, now, deadline, false);
            } else {
                result = appendSticky(topic, count, value, headers, completion, now, deadline);
            }
            if (result == Accumulator.AppendResult.APPENDED_NEW_BATCH) {
                io.wakeup();
            }
            // Re-check after the append: a close or fatal error that raced with it must not strand the record.
            if (closed || sender.fatalError() != null) {
                io.wakeup();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProducerException("interrupted while blocked in send()", e);
        } catch (ProducerException e) {
            throw e;
        } catch (RuntimeException e) {
            // A bug, not a closed producer (a close racing send() is a ProducerClosedException): say so, count it.
            metrics.internalError();
            throw new ProducerException("internal error in send(): " + e, e);
        }
    }

    private Accumulator.AppendResult append(String topic, int partition, byte[] key, byte[] value, Header[] headers,
                                            Object completion, long now, long deadline, boolean abortOnNewBatch)
        throws InterruptedException {
        PartitionQueue q = accumulator.queue(topic, partition);
        return accumulator.append(q, now, key, value, headers, completion, now, deadline, abortOnNewBatch);
    }

    /** KIP-480: keep the sticky partition while its open batch takes the record; move on when a batch closes. */
    private Accumulator.AppendResult appendSticky(String topic, int count, byte[] value, Header[] headers,
                                                  Object completion, long now, long deadline)
        throws InterruptedException {
        int sticky = accumulator.stickyPartition(topic);
        if (sticky < 0 || sticky >= count) {
            sticky = accumulator.switchSticky(topic, sticky, Partitioner.nextSticky(-1, count));
        }
        Accumulator.AppendResult r = append(topic, sticky, null, value, headers, completion, now, deadline, true);
        if (r != Accumulator.AppendResult.NEEDS_NEW_BATCH) {
            return r;
        }
        int next = accumulator.switchSticky(topic, sticky, Partitioner.nextSticky(sticky, count));
        return append(topic, next, null, value, headers, completion, now, deadline, false);
    }

    // ---------------------------------------------------------------------------------------------------------
    // flush, close

    /**
     * Sends every record passed to send() before this call at once (ignoring linger.ms) and waits until each is
     * acknowledged or failed. Records sent meanwhile by other threads may be sent early too.
     */
    public void flush() {
        if (io.inLoop()) {
            throw new IllegalStateException("flush() from a callback would wait for itself");
        }
        accumulator.beginFlush();
        try {
            io.wakeup();
            accumulator.awaitIncomplete(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProducerException("interrupted in flush()", e);
        } finally {
            accumulator.endFlush();
        }
    }

    /** {@link #close(Duration)} with no time limit: every pending record is acknowledged or failed first. */
    @Override
    public void close() {
        close(Duration.ofMillis(Long.MAX_VALUE));
    }

    /**
     * Stops accepting records, sends what is pending and waits for the answers up to {@code timeout}; records
     * still pending then fail with a {@link ProducerClosedException}. Stops the I/O thread before returning.
     * From a callback (on the I/O thread) it cannot wait and closes at once.
     */
    public void close(Duration timeout) {
        long timeoutMs = timeout.toMillis();
        synchronized (closeLock) {
            if (shutDown) {
                return;
            }
            closed = true;
            accumulator.close();
            metadata.wakeWaiters();
            boolean idle = false;
            if (!io.inLoop() && timeoutMs > 0) {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMs,
                    TimeUnit.NANOSECONDS.toMillis(Long.MAX_VALUE / 2)));
                try {
                    idle = io.awaitIdle(deadline);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!idle) {
                io.runAndWait(sender::forceClose, 10_000);
            }
            io.runAndWait(transport::close, 10_000);
            pool.close();
            shutDown = true;
        }
        if (!io.inLoop()) {
            io.shutdown(1000);
        } else {
            io.loop().parent().shutdownGracefully(0, 1000, TimeUnit.MILLISECONDS);
        }
    }
}
