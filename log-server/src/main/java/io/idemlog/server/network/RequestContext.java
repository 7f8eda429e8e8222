package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.Message;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;

import java.net.SocketAddress;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One request on one connection, and the handle through which it is answered. Answers may be given from any
 * thread; the connection writes them in request order (a produce waiting for fsync holds back the answers to the
 * requests that came after it on the same connection, which is what pipelining clients rely on).
 */
public final class RequestContext {
    /**
     * Each answering thread's writer, reused answer after answer: {@link #respond} encodes into it and hands over a
     * copy (an exact array, or for an answer with records a detached writer), never the writer itself, so no
     * answer shares it. Encoding runs to its end on the thread before that thread encodes another.
     */
    private static final FastThreadLocal<WireWriter> ENCODER = new FastThreadLocal<>() {
        @Override
        protected WireWriter initialValue() {
            return new WireWriter(ENCODER_CAPACITY);
        }
    };
    private static final int ENCODER_CAPACITY = 1024;
    /** A thread's writer that grew above this for a large answer is dropped after it, not kept for every later one. */
    private static final int ENCODER_KEPT_MAX = 64 * 1024;

    private final Connection connection;
    public final RequestHeader header;
    public final ApiKey api;
    public final short version;
    public final long receivedNanos;

    /**
     * Set once, by the answering thread; read on the event loop after the hand-off: the whole answer as a
     * {@code byte[]}, or a {@link WireWriter} when it carries records (sent from their source); null for none.
     */
    private Object response;
    private boolean answered;
    private boolean ready;
    /**
     * The connection's stack of answers completed on other threads ({@link Connection#completed}): written by the
     * completing thread before its CAS publishes this context, read by the event loop after taking the stack.
     */
    RequestContext nextCompleted;
    /** Event-loop only: the connection reads nothing more until this request is answered. */
    private boolean holdsReading;

    RequestContext(Connection connection, RequestHeader header, ApiKey api, long receivedNanos) {
        this.connection = connection;
        this.header = header;
        this.api = api;
        this.version = header.apiVersion;
        this.receivedNanos = receivedNanos;
    }

    /** Answers with {@code body} encoded at the request's version. */
    public void respond(Message body) {
        respond(body, version);
    }

    /**
     * Answers with {@code body} encoded at {@code bodyVersion}: only ApiVersions answers a too-new request in a
     * different (v0) form.
     */
    public void respond(Message body, short bodyVersion) {
        WireWriter w = ENCODER.get().reset(); // left as it was if an earlier encoding threw: reset here
        w.writeInt32(0);
        ResponseHeader.write(w, header.correlationId, api.responseHeaderVersion(bodyVersion));
        body.write(w, bodyVersion);
        w.putInt32At(0, w.totalSize() - 4);
        Object answer = w.recordsAt().isEmpty() ? w.copyOfBytes() : w.detachedCopy();
        if (w.capacity() > ENCODER_KEPT_MAX) {
            ENCODER.remove();
        }
        complete(answer);
    }

    /**
     * Counts an error code this request's answer carries (per partition, per topic or per request: once per place
     * the code appears), in the requests-and-errors-by-API-and-version metrics. NONE is not counted; allocates
     * nothing after the first error of the API and version.
     */
    public void countError(ErrorCode error) {
        connection.requestMetrics().error(api, version, error);
    }

    /** The request gets no answer (Produce with acks=0); later answers on the connection are not held back. */
    public void noResponse() {
        complete(null);
    }

    /** Closes the connection (Kafka's answer to a produce error with acks=0, and to malformed input). */
    public void closeConnection(String reason) {
        connection.close(reason);
    }

    private void complete(Object answer) {
        synchronized (this) {
            if (answered) {
                throw new IllegalStateException("request answered twice: " + header);
            }
            answered = true;
            response = answer;
        }
        connection.completed(this);
    }

    /** Runs {@code task} on this connection's thread after {@code delayMs}; cancel through the returned future. */
    public Future<?> schedule(Runnable task, long delayMs) {
        return connection.eventLoop().schedule(task, delayMs, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} on this connection's thread (at once if already on it). */
    public void execute(Runnable task) {
        EventLoop loop = connection.eventLoop();
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /**
     * Runs {@code action} with {@code key} on this connection's thread once the current read burst has been
     * processed (every request that arrived in one socket read), once per {@code key} (compared by identity). Lets a
     * handler do work once for many pipelined requests: the produce handler makes a partition durable once for all
     * of them. The action gets the key so that it can be a constant (no allocation per call), and the number of keys
     * the burst deferred work for. Must be called on the connection's thread, while handling a request.
     */
    public <K> void afterReadBurst(K key, BurstAction<? super K> action) {
        connection.afterReadBurst(key, action);
    }

    /**
     * The connection reads no further request until this one is answered (as Kafka's broker does for every
     * request: it mutes the channel while one is processed). Produce calls it for a batch without a producer id
     * when {@code produce.non.idempotent.one.at.a.time} is on: such a client re-sends everything in flight after a
     * reset, and requests not yet read are lost with the connection instead of stored twice. Must be called on the
     * connection's thread while handling the request; a no-op when the option is off.
     */
    public void holdReadingUntilAnswered() {
        if (!holdsReading && connection.holdReadingFor(this)) {
            holdsReading = true;
        }
    }

    /** Event-loop only. */
    boolean holdsReading() {
        return holdsReading;
    }

    /** Whether the caller runs on this connection's thread. */
    public boolean inConnectionThread() {
        return connection.eventLoop().inEventLoop();
    }

    public SocketAddress remoteAddress() {
        return connection.remoteAddress();
    }

    /** The server-side address of the connection (its port is the listener's actual port). */
    public SocketAddress localAddress() {
        return connection.localAddress();
    }

    public boolean isConnectionOpen() {
        return connection.isOpen();
    }

    /**
     * The connection's attachment for the handlers (null until one attaches it): per-connection state that outlives
     * one request, such as the produce handler's fence. Connection thread only.
     */
    public Object connectionAttachment() {
        return connection.attachment;
    }

    /** Sets {@link #connectionAttachment()}. Connection thread only. */
    public void attachToConnection(Object attachment) {
        connection.attachment = attachment;
    }

    /** The answer ({@link #response}: a {@code byte[]}, a {@link WireWriter}, or null for none), once. */
    synchronized Object takeResponse() {
        Object answer = response;
        response = null;
        return answer;
    }

    /** Event-loop only. */
    boolean isReady() {
        return ready;
    }

    /** Event-loop only. */
    void markReady() {
        ready = true;
    }
}
