package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.KafkaApiNames;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One client connection: decodes request headers, dispatches to the API handlers in arrival order, and writes the
 * answers in that same order whatever order they complete in. Every field is confined to the channel's event loop,
 * except {@link #completed}, which any thread may call.
 *
 * <p>Requests are processed as they arrive (a pipelined Produce is appended before the previous one is durable,
 * which is what lets one fsync cover many requests); only the answers wait. One rule decides reading: the
 * connection reads while fewer than queued.max.requests.per.connection answers are pending and the socket's
 * outbound buffer is writable (and the {@link FrameDecoder} has request memory); it is re-evaluated whenever
 * either changes.
 *
 * <p>Each frame arrives holding its reservation of the server-wide request memory; it is returned once the
 * handler has run (a handler copies what it keeps: the produce path writes the records to the page cache).
 *
 * <p>Answers completed on another thread (the flusher's group commit, log.flush.thread=flusher) are handed over in
 * batches: each is pushed onto a lock-free stack ({@link RequestContext#nextCompleted}, no allocation), and only the
 * push that finds the stack empty schedules a task on the event loop, which takes the whole stack and writes every
 * answer now at the head of the queue with one socket flush. A group commit that completes many answers of one
 * connection thus costs one event-loop task and one write, not one of each per answer.
 *
 * <p>Strings from the wire reach log lines only escaped ({@link LogSafe}); lines about refused or closed
 * connections are rate-limited ({@link LogLimiter}).
 */
final class Connection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    private final ApiHandler[] handlers;
    private final ConnectionShared shared;
    private final FrameDecoder frames;
    private final int maxQueued;
    /** Pending requests that hold reading until answered ({@link RequestContext#holdReadingUntilAnswered}). */
    private int holdingReading;
    private final ArrayDeque<RequestContext> pending = new ArrayDeque<>();
    /** The handlers' per-connection state ({@link RequestContext#connectionAttachment()}); event loop only. */
    Object attachment;
    private final WireReader reader = new WireReader();
    /** The client id of the last request read: the next one's is this same String when its bytes are equal. */
    private String clientId;
    private Channel channel;
    private ChannelHandlerContext context;
    /** Work deferred to the end of the current read burst, by identity key (few entries: linear scan). */
    private final ArrayList<Object> burstKeys = new ArrayList<>(4);
    private final ArrayList<BurstAction<Object>> burstActions = new ArrayList<>(4);
    /**
     * Answers completed on other threads, not yet taken by the event loop: a Treiber stack linked through
     * {@link RequestContext#nextCompleted}. Non-null means a {@link #drainCompleted} task is scheduled.
     */
    private final AtomicReference<RequestContext> completedElsewhere = new AtomicReference<>();
    private final Runnable drainCompleted = this::drainCompleted;

    Connection(ApiHandler[] handlers, ConnectionShared shared, FrameDecoder frames) {
        this.handlers = handlers;
        this.shared = shared;
        this.frames = frames;
        this.maxQueued = shared.maxQueued();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
        this.channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        int reserved = frame.readableBytes();
        shared.metrics().bytesIn.add(reserved + 4L);
        try {
            if (channel.isActive()) {
                handleFrame(frame);
            }
        } finally {
            frame.release();
            shared.memory().release(reserved);
        }
    }

    private void handleFrame(ByteBuf frame) {
        ByteBuffer buffer = frame.nioBuffer();
        reader.wrap(buffer, buffer.position(), buffer.limit());
        RequestHeader header;
        try {
            header = RequestHeader.read(reader, clientId);
            clientId = header.clientId;
        } catch (ProtocolException e) {
            shared.metrics().malformedRequests.increment();
            close("malformed request header: " + e.getMessage());
            return;
        }
        ApiKey api = header.api();
        if (api == null) {
            shared.metrics().unsupportedRequests.increment();
            close(KafkaApiNames.describe(header.apiKey, header.apiVersion) + " is not supported by idemlog"
                + " (correlation id " + header.correlationId + ")");
            return;
        }
        RequestContext rc = new RequestContext(this, header, api, System.nanoTime());
        if (!api.isVersionSupported(header.apiVersion)) {
            if (api == ApiKey.API_VERSIONS && header.apiVersion > api.maxVersion) {
                // KIP-511: answer a too-new ApiVersions in v0 form, naming the version we do support.
                pending.add(rc);
                ApiVersionsResponse rsp = new ApiVersionsResponse();
                rsp.errorCode = ErrorCode.UNSUPPORTED_VERSION.code;
                rsp.apiKeys.add(new ApiVersionsResponse.ApiVersion(api.id, api.minVersion, api.maxVersion));
                rc.respond(rsp, (short) 0);
                updateReading();
                return;
            }
            shared.metrics().unsupportedRequests.increment();
            close(KafkaApiNames.describe(api.id, header.apiVersion) + " is not supported by idemlog (supported "
                + api.minVersion + "-" + api.maxVersion + ")");
            return;
        }
        pending.add(rc);
        updateReading();
        shared.metrics().requests.request(api, header.apiVersion);
        try {
            handlers[api.id].handle(rc, reader);
        } catch (ProtocolException e) {
            shared.metrics().malformedRequests.increment();
            shared.metrics().requests.failed(api, header.apiVersion, true);
            close("malformed " + api + " v" + header.apiVersion + " request: " + e.getMessage());
        } catch (RuntimeException e) {
            shared.metrics().handlerErrors.increment();
            shared.metrics().requests.failed(api, header.apiVersion, false);
            if (shared.logLimiter().tryAcquire() >= 0) {
                LOG.error("error handling {} from {}; closing the connection", header, remoteAddress(), e);
            }
            close("internal error");
        }
    }

    @SuppressWarnings("unchecked")
    <K> void afterReadBurst(K key, BurstAction<? super K> action) {
        for (int i = 0; i < burstKeys.size(); i++) {
            if (burstKeys.get(i) == key) {
                return;
            }
        }
        burstKeys.add(key);
        burstActions.add((BurstAction<Object>) action);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Index loop: an action may register more (it runs handlers' completions inline).
        for (int i = 0; i < burstActions.size(); i++) {
            try {
                burstActions.get(i).run(burstKeys.get(i), burstKeys.size());
            } catch (RuntimeException e) {
                // A handler's bug, found late: as for one thrown by the handler itself, counted, logged (rate
                // limited) and the connection closed, so that the client retries instead of waiting for an answer
                // that the failed work may never give.
                shared.metrics().handlerErrors.increment();
                if (shared.logLimiter().tryAcquire() >= 0) {
                    LOG.error("deferred work failed on the connection from {}; closing it", remoteAddress(), e);
                }
                close("internal error in deferred work");
            }
        }
        burstKeys.clear();
        burstActions.clear();
        ctx.fireChannelReadComplete();
    }

    /** Called by any thread once a request has its answer (or is known to need none). */
    void completed(RequestContext rc) {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            rc.markReady();
            writeReady();
            return;
        }
        // Another thread: push; the push onto an empty stack schedules the one task that takes them all.
        RequestContext head;
        do {
            head = completedElsewhere.get();
            rc.nextCompleted = head;
        } while (!completedElsewhere.compareAndSet(head, rc));
        if (head == null) {
            loop.execute(drainCompleted);
        }
    }

    /** Event loop: every answer completed elsewhere since the last drain, then one pass over the queue's head. */
    private void drainCompleted() {
        RequestContext rc = completedElsewhere.getAndSet(null);
        while (rc != null) {
            RequestContext next = rc.nextCompleted;
            rc.nextCompleted = null;
            rc.markReady();
            rc = next;
        }
        writeReady();
    }

    /** Event loop: writes the answers now ready at the head of the queue, in request order, with one flush. */
    private void writeReady() {
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peekFirst().isReady()) {
            RequestContext head = pending.pollFirst();
            if (head.holdsReading()) {
                holdingReading--;
            }
            shared.metrics().requests.latency(head.api, System.nanoTime() - head.receivedNanos);
            Object answer = head.takeResponse();
            if (answer != null && channel.isActive()) {
                if (answer instanceof byte[] bytes) {
                    write(bytes);
                } else {
                    write((WireWriter) answer);
                }
                wrote = true;
            }
        }
        if (wrote) {
            context.flush();
        }
        updateReading();
    }

    /** produce.non.idempotent.one.at.a.time: whether {@code rc} now holds reading (false: the option is off). */
    boolean holdReadingFor(RequestContext rc) {
        if (!shared.oneAtATimeNonIdempotent()) {
            return false;
        }
        holdingReading++;
        updateReading();
        return true;
    }

    /**
     * The one rule: read while fewer than maxQueued answers are pending (none, while a pending request holds
     * reading) and the socket is writable.
     */
    private void updateReading() {
        frames.pausedFor(FrameDecoder.Pause.QUEUE_FULL, pending.size() >= maxQueued);
        frames.pausedFor(FrameDecoder.Pause.HELD, holdingReading > 0);
        frames.pausedFor(FrameDecoder.Pause.UNWRITABLE, !channel.isWritable());
    }

    /** An answer without records: its bytes, as they are (the array is this answer's own). */
    private void write(byte[] answer) {
        shared.metrics().bytesOut.add(answer.length);
        context.write(Unpooled.wrappedBuffer(answer), context.voidPromise());
    }

    private void write(WireWriter w) {
        ByteBuffer own = w.bytes();
        long out = own.remaining();
        for (int i = 0; i < w.recordsAt().size(); i++) {
            out += w.recordsAt().get(i).records().sizeInBytes();
        }
        shared.metrics().bytesOut.add(out);
        if (w.recordsAt().isEmpty()) {
            context.write(Unpooled.wrappedBuffer(own), context.voidPromise());
            return;
        }
        int from = 0;
        for (WireWriter.RecordsHole hole : w.recordsAt()) {
            if (hole.position() > from) {
                context.write(Unpooled.wrappedBuffer(own.duplicate().position(from).limit(hole.position())),
                    context.voidPromise());
            }
            if (hole.records() instanceof FileRecords fr) {
                context.write(fr.channel() != null ? new SharedFileRegion(fr.channel(), fr.position(), fr.size())
                    : new DefaultFileRegion(fr.file().toFile(), fr.position(), fr.size()), context.voidPromise());
            } else if (hole.records() instanceof MemoryRecords mr) {
                context.write(Unpooled.wrappedBuffer(mr.buffer().duplicate()), context.voidPromise());
            } else {
                throw new IllegalStateException("cannot send " + hole.records());
            }
            from = hole.position();
        }
        if (own.limit() > from) {
            context.write(Unpooled.wrappedBuffer(own.duplicate().position(from)), context.voidPromise());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && pending.isEmpty()) {
            shared.metrics().idleCloses.increment();
            close("idle for longer than connections.max.idle.ms");
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        shared.metrics().connectionsOpened.increment();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        shared.metrics().connectionsClosed.increment();
        pending.clear();
        ctx.fireChannelInactive();
    }

    /**
     * An exception that reached the end of the pipeline: an I/O error of the socket (a reset by the peer: logged at
     * debug), or anything else, which is a bug on the connection's path outside the handlers' own catch (an answer
     * that fails to encode, a completion that throws on the event loop): counted as a handler error and logged with
     * its stack (rate-limited) before the connection closes. Before, both were logged at debug only, so a connection
     * closed by such a bug left no trace (seen once: a node closing every Produce connection, 2026-12-04).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.debug("connection {} failed: {}", remoteAddress(), cause.toString());
        } else {
            shared.metrics().handlerErrors.increment();
            if (shared.logLimiter().tryAcquire() >= 0) {
                LOG.error("unexpected error on the connection from {}; closing it", remoteAddress(), cause);
            }
        }
        ctx.close();
    }

    /** Closes the connection, logging why (rate-limited; {@code reason} must hold only escaped wire strings). */
    void close(String reason) {
        if (channel.isActive()) {
            long dropped = shared.logLimiter().tryAcquire();
            if (dropped >= 0) {
                LOG.info("closing connection from {}: {}{}", remoteAddress(), reason, LogLimiter.suffix(dropped));
            }
        }
        channel.close();
    }

    RequestMetrics requestMetrics() {
        return shared.metrics().requests;
    }

    EventLoop eventLoop() {
        return channel.eventLoop();
    }

    SocketAddress remoteAddress() {
        return channel == null ? null : channel.remoteAddress();
    }

    SocketAddress localAddress() {
        return channel == null ? null : channel.localAddress();
    }

    boolean isOpen() {
        return channel.isActive();
    }
}
