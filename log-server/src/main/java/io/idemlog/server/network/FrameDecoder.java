package io.idemlog.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The reading side of a connection: splits the byte stream into Kafka frames ({@code INT32 size} then {@code size}
 * bytes) and decides when the connection reads at all.
 *
 * <p>Framing. A size that is negative or above socket.request.max.bytes closes the connection before any of the
 * frame is buffered (Kafka does the same: there is no way to answer a frame one will not read). Before buffering a
 * body, the frame's whole size is reserved from the server-wide {@link RequestMemory}; the reservation travels with
 * the frame to {@link Connection}, which returns it once the request is handled. A frame that does not fit waits:
 * the connection stops reading until memory is released, then goes on with the bytes it already has.
 *
 * <p>Reading is paused for any of {@link Pause}'s reasons and resumes when none is left: one rule, whoever asks.
 *
 * <p>Deadline. Once the first byte of a frame has arrived, the frame must be complete within
 * socket.request.read.timeout.ms, counted while the connection reads (a pause stops the clock, a resume restarts
 * it with the full time): a client trickling bytes cannot hold a connection (and its memory reservation) forever.
 * One timer per connection at most, not one per frame: when it fires for a frame that has since completed it
 * re-arms for the current frame's remaining time, so a connection costs about one scheduled task per deadline
 * period however many requests it sends (no allocation per request).
 *
 * <p>Event-loop confined, like the channel.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(FrameDecoder.class);

    /** Why a connection does not read. */
    enum Pause {
        /** queued.max.requests.per.connection answers are pending. */
        QUEUE_FULL,
        /** The socket's outbound buffer is full (the client does not read its answers). */
        UNWRITABLE,
        /** The next frame does not fit in queued.max.request.bytes now. */
        MEMORY,
        /**
         * A pending request holds reading until answered (produce.non.idempotent.one.at.a.time): unlike the other
         * reasons, frames already received are not cut either, so that they are lost with the connection if it
         * resets, as requests not yet read from the socket are.
         */
        HELD
    }

    /** The framing state machine. */
    private enum State {
        /** Waiting for (the rest of) a size field. */
        SIZE,
        /** Size read and reserved; waiting for the body. */
        BODY,
        /** The connection is being closed: everything is discarded. */
        CLOSED
    }

    private final ConnectionShared shared;
    private ChannelHandlerContext context;
    private State state = State.SIZE;
    /** Size of the frame in BODY. */
    private int frameSize;
    /** Bytes reserved from the memory bound and not yet handed to the Connection with a frame. */
    private int held;
    /** Whether the first byte of the current frame has been seen (the deadline runs). */
    private boolean frameStarted;
    private int pauses;
    /** When the current frame's deadline clock (re)started, by the injected clock. */
    private long frameClockStart;
    /** The pending deadline check, or null. */
    private ScheduledFuture<?> deadline;
    private boolean memoryWaitPosted;
    /** {@link #retryAfterRelease} as one object (posted once per held request: no allocation per request). */
    private final Runnable retryTask = this::retryAfterRelease;

    FrameDecoder(ConnectionShared shared) {
        this.shared = shared;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case CLOSED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
                case SIZE -> {
                    if (!in.isReadable() || (pauses & bit(Pause.HELD)) != 0) {
                        return;
                    }
                    startFrame();
                    if (in.readableBytes() < 4) {
                        return;
                    }
                    int size = in.getInt(in.readerIndex());
                    if (size < 0 || size > shared.maxFrameBytes()) {
                        shared.metrics().oversizedFrames.increment();
                        refuse(ctx, "frame of " + size + " bytes (limit socket.request.max.bytes="
                            + shared.maxFrameBytes() + ")");
                        in.skipBytes(in.readableBytes());
                        return;
                    }
                    if (held != size && !reserve(size)) {
                        return;
                    }
                    in.skipBytes(4);
                    frameSize = size;
                    state = State.BODY;
                }
                case BODY -> {
                    if (in.readableBytes() < frameSize) {
                        return;
                    }
                    ByteBuf frame = in.readRetainedSlice(frameSize);
                    held = 0; // the reservation now travels with the frame
                    state = State.SIZE;
                    endFrame();
                    out.add(frame);
                    if (shared.oneAtATimeNonIdempotent()) {
                        return; // the Connection handles this frame (and may hold reading) before the next is cut
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    /** Reserves a frame's size, or pauses reading until memory is released. */
    private boolean reserve(int size) {
        if (shared.memory().tryReserve(size)) {
            held = size;
            if ((pauses & bit(Pause.MEMORY)) != 0) {
                resume(Pause.MEMORY);
            }
            return true;
        }
        shared.metrics().memoryWaits.increment();
        pause(Pause.MEMORY);
        if (!memoryWaitPosted) {
            memoryWaitPosted = true;
            shared.memory().awaitRelease(() -> context.executor().execute(this::retryAfterRelease), size);
        }
        return false;
    }

    /** After a release: decode again what is buffered (the size field that did not fit), which reserves again. */
    private void retryAfterRelease() {
        memoryWaitPosted = false;
        if (state == State.CLOSED || !context.channel().isActive()) {
            return;
        }
        try {
            channelRead(context, Unpooled.EMPTY_BUFFER);
            channelReadComplete(context);
        } catch (Exception e) {
            context.fireExceptionCaught(e);
        }
    }

    private void startFrame() {
        if (!frameStarted) {
            frameStarted = true;
            restartDeadlineClock();
        }
    }

    private void endFrame() {
        frameStarted = false; // the pending check, if any, finds no frame (or the next one) when it fires
    }

    /** The current frame gets the full deadline from now (when reading); a check is scheduled if none is. */
    private void restartDeadlineClock() {
        if (shared.frameTimeoutMs() > 0 && pauses == 0 && context != null) {
            frameClockStart = shared.clock().nanoTime();
            if (deadline == null) {
                schedule(TimeUnit.MILLISECONDS.toNanos(shared.frameTimeoutMs()));
            }
        }
    }

    private void schedule(long delayNanos) {
        deadline = context.executor().schedule(this::deadlinePassed, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void deadlinePassed() {
        deadline = null;
        if (state == State.CLOSED || !frameStarted || pauses != 0) {
            return; // a resume or the next frame arms the check again
        }
        long remaining = TimeUnit.MILLISECONDS.toNanos(shared.frameTimeoutMs())
            - (shared.clock().nanoTime() - frameClockStart);
        if (remaining > 0) {
            schedule(remaining); // armed for an earlier frame: check again when this one's time is up
            return;
        }
        shared.metrics().frameTimeouts.increment();
        String progress = state == State.BODY ? internalBuffer().readableBytes() + " of " + frameSize + " bytes"
            : internalBuffer().readableBytes() + " bytes of the size field";
        refuse(context, "request frame not complete after socket.request.read.timeout.ms=" + shared.frameTimeoutMs()
            + " (" + progress + " received)");
    }

    /** Stops reading for {@code reason} (until {@link #resume} of every reason given). */
    void pause(Pause reason) {
        int before = pauses;
        pauses |= bit(reason);
        if (before == 0 && pauses != 0) {
            context.channel().config().setAutoRead(false); // the pending check, if any, sees the pause
        }
    }

    /** Withdraws {@code reason}; reading resumes when no reason is left. */
    void resume(Pause reason) {
        int before = pauses;
        pauses &= ~bit(reason);
        if (before != 0 && pauses == 0 && state != State.CLOSED) {
            context.channel().config().setAutoRead(true);
            if (frameStarted) {
                restartDeadlineClock();
            }
        }
    }

    /** Pauses or resumes for {@code reason}. */
    void pausedFor(Pause reason, boolean paused) {
        if (paused) {
            pause(reason);
        } else if ((pauses & bit(reason)) != 0) {
            resume(reason);
            if (reason == Pause.HELD && !memoryWaitPosted) {
                // Frames received while held are still buffered, and no socket read may come to cut them (the
                // client may have sent everything): decode them now, after the caller's work.
                memoryWaitPosted = true;
                context.executor().execute(retryTask);
            }
        }
    }

    /** Whether reading is paused, and for which reasons (bit i = Pause ordinal i); for tests. */
    int pauses() {
        return pauses;
    }

    private static int bit(Pause reason) {
        return 1 << reason.ordinal();
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        state = State.CLOSED;
        cancelDeadline();
        long dropped = shared.logLimiter().tryAcquire();
        if (dropped >= 0) {
            LOG.info("closing connection from {}: {}{}", ctx.channel().remoteAddress(), reason,
                LogLimiter.suffix(dropped));
        }
        releaseHeld();
        ctx.close();
    }

    private void releaseHeld() {
        if (held > 0) {
            int h = held;
            held = 0;
            shared.memory().release(h);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        cancelDeadline();
        releaseHeld();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        state = State.CLOSED;
        cancelDeadline();
        releaseHeld();
        super.channelInactive(ctx);
    }
}
