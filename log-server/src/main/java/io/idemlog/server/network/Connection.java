package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
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

/**
 * One client connection: decodes request headers, dispatches to the API handlers in arrival order, and writes the
 * answers in that same order whatever order they complete in. Every field is confined to the channel's event loop,
 * except {@link #completed}, which any thread may call.
 *
 * <p>Requests are processed as they arrive (a pipelined Produce is appended before the previous one is durable,
 * which is what lets one fsync cover many requests); only the answers wait. When more than
 * queued.max.requests.per.connection answers are pending, or the socket's outbound buffer is full, the connection
 * stops reading until it drains.
 */
final class Connection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    private final ApiHandler[] handlers;
    private final int maxQueued;
    private final ArrayDeque<RequestContext> pending = new ArrayDeque<>();
    private final WireReader reader = new WireReader();
    private Channel channel;
    private ChannelHandlerContext context;
    private boolean readPaused;
    /** Work deferred to the end of the current read burst, by identity key (few entries: linear scan). */
    private final ArrayList<Object> burstKeys = new ArrayList<>(4);
    private final ArrayList<Runnable> burstActions = new ArrayList<>(4);

    Connection(ApiHandler[] handlers, int maxQueued) {
        this.handlers = handlers;
        this.maxQueued = maxQueued;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
        this.channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (channel.isActive()) {
                handleFrame(frame);
            }
        } finally {
            frame.release();
        }
    }

    private void handleFrame(ByteBuf frame) {
        ByteBuffer buffer = frame.nioBuffer();
        reader.wrap(buffer, buffer.position(), buffer.limit());
        RequestHeader header;
        try {
            header = RequestHeader.read(reader);
        } catch (ProtocolException e) {
            close("malformed request header: " + e.getMessage());
            return;
        }
        ApiKey api = header.api();
        if (api == null) {
            close("unknown api key " + header.apiKey + " (correlation id " + header.correlationId + ")");
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
                return;
            }
            close("unsupported version " + header.apiVersion + " of " + api + " (supported " + api.minVersion
                + "-" + api.maxVersion + ")");
            return;
        }
        pending.add(rc);
        if (pending.size() >= maxQueued) {
            pauseReading();
        }
        try {
            handlers[api.id].handle(rc, reader);
        } catch (ProtocolException e) {
            close("malformed " + api + " v" + header.apiVersion + " request: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("error handling {} from {}; closing the connection", header, remoteAddress(), e);
            close("internal error");
        }
    }

    void afterReadBurst(Object key, Runnable action) {
        for (int i = 0; i < burstKeys.size(); i++) {
            if (burstKeys.get(i) == key) {
                return;
            }
        }
        burstKeys.add(key);
        burstActions.add(action);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Index loop: an action may register more (it runs handlers' completions inline).
        for (int i = 0; i < burstActions.size(); i++) {
            try {
                burstActions.get(i).run();
            } catch (RuntimeException e) {
                LOG.error("deferred work failed on the connection from {}", remoteAddress(), e);
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
            onCompleted(rc);
        } else {
            loop.execute(() -> onCompleted(rc));
        }
    }

    private void onCompleted(RequestContext rc) {
        rc.markReady();
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peekFirst().isReady()) {
            RequestContext head = pending.pollFirst();
            WireWriter w = head.takeResponse();
            if (w != null && channel.isActive()) {
                write(w);
                wrote = true;
            }
        }
        if (wrote) {
            context.flush();
        }
        if (readPaused && pending.size() < Math.max(1, maxQueued / 2) && channel.isWritable()) {
            resumeReading();
        }
    }

    private void write(WireWriter w) {
        ByteBuffer own = w.bytes();
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

    private void pauseReading() {
        if (!readPaused) {
            readPaused = true;
            channel.config().setAutoRead(false);
        }
    }

    private void resumeReading() {
        readPaused = false;
        channel.config().setAutoRead(true);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!channel.isWritable()) {
            pauseReading();
        } else if (pending.size() < maxQueued) {
            resumeReading();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && pending.isEmpty()) {
            close("idle for longer than connections.max.idle.ms");
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pending.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("connection {} failed: {}", remoteAddress(), cause.toString());
        ctx.close();
    }

    void close(String reason) {
        LOG.info("closing connection from {}: {}", remoteAddress(), reason);
        channel.close();
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
