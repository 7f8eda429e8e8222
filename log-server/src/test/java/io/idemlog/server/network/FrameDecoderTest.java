package io.idemlog.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FrameDecoder} in memory (EmbeddedChannel, Netty's own way of testing decoders): framing of split and joined
 * frames, refusal of negative and oversized sizes, the request memory bound (and recovery once memory is released),
 * the frame deadline and the pause rule. Time is injected (the deadline clock and the embedded loop's scheduler
 * move together), never slept.
 */
class FrameDecoderTest {
    private static final int MAX_FRAME = 1000;
    private static final long TIMEOUT_MS = 30_000;

    private final NetworkMetrics metrics = new NetworkMetrics();
    /** The deadline clock, moved together with the embedded loop's scheduler ({@link #advance}). */
    private final CachedNanoClock clock = new CachedNanoClock();
    private RequestMemory memory = new RequestMemory(2000);
    private FrameDecoder decoder;
    private EmbeddedChannel channel;

    private EmbeddedChannel channel() {
        ConnectionShared shared = new ConnectionShared(MAX_FRAME, TIMEOUT_MS, 100, memory, metrics,
            new LogLimiter(1000, 1000, SystemNanoClock.INSTANCE), clock);
        decoder = new FrameDecoder(shared);
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(decoder);
        return channel;
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    /** Moves both clocks and runs what is due. */
    private static void advance(EmbeddedChannel ch, CachedNanoClock clock, long ms) {
        clock.advance(TimeUnit.MILLISECONDS.toNanos(ms));
        ch.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
    }

    private void advance(long ms) {
        advance(channel, clock, ms);
    }

    private static ByteBuf frame(int bodyBytes, int fill) {
        ByteBuf b = Unpooled.buffer(4 + bodyBytes);
        b.writeInt(bodyBytes);
        for (int i = 0; i < bodyBytes; i++) {
            b.writeByte(fill);
        }
        return b;
    }

    /** Reads one decoded frame, checks its size, and returns its reservation as Connection does. */
    private void assertFrame(EmbeddedChannel ch, int bodyBytes) {
        ByteBuf f = ch.readInbound();
        assertTrue(f != null, "a frame was decoded");
        assertEquals(bodyBytes, f.readableBytes());
        f.release();
        memory.release(bodyBytes);
    }

    @Test
    void shouldReassembleAFrameSplitIntoSingleBytes() {
        EmbeddedChannel ch = channel();
        ByteBuf whole = frame(10, 7);
        while (whole.isReadable()) {
            assertNull(ch.readInbound());
            ch.writeInbound(whole.readRetainedSlice(1));
        }
        whole.release();
        assertFrame(ch, 10);
        assertNull(ch.readInbound());
        assertEquals(0, memory.used());
    }

    @Test
    void shouldSplitSeveralFramesArrivingTogether() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(3, 1), frame(0, 0), frame(5, 2)));
        assertFrame(ch, 3);
        assertFrame(ch, 0);
        assertFrame(ch, 5);
        assertNull(ch.readInbound());
    }

    @Test
    void shouldCloseOnANegativeSizeAndIgnoreWhatFollows() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.buffer().writeInt(-5));
        assertFalse(ch.isOpen());
        assertEquals(1, metrics.oversizedFrames.sum());
        assertNull(ch.readInbound());
    }

    @Test
    void shouldCloseOnAnOversizedSizeBeforeBufferingTheBody() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.buffer().writeInt(MAX_FRAME + 1));
        assertFalse(ch.isOpen());
        assertEquals(1, metrics.oversizedFrames.sum());
        assertEquals(0, memory.used(), "nothing reserved for a refused frame");
    }

    @Test
    void shouldStopReadingWhenTheMemoryBoundIsReachedAndRecoverWhenReleased() {
        EmbeddedChannel ch = channel();
        assertTrue(memory.tryReserve(1500), "another connection holds 1500 of 2000 bytes");
        ch.writeInbound(frame(600, 3));
        assertNull(ch.readInbound(), "600 bytes do not fit");
        assertFalse(ch.config().isAutoRead(), "back-pressure: the connection stops reading");
        assertEquals(1, metrics.memoryWaits.sum());
        assertTrue(ch.isOpen(), "a healthy client is not failed");
        memory.release(1500);
        ch.runPendingTasks();
        assertTrue(ch.config().isAutoRead());
        assertFrame(ch, 600);
        assertEquals(0, memory.used());
    }

    @Test
    void shouldReserveAFramesWholeSizeBeforeItsBody() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.buffer().writeInt(800).writeByte(1));
        assertEquals(800, memory.used());
        ch.close();
        assertEquals(0, memory.used(), "a closed connection returns its reservation");
    }

    @Test
    void shouldCloseAConnectionThatDoesNotCompleteAStartedFrameInTime() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.buffer().writeInt(100).writeByte(1));
        advance(TIMEOUT_MS - 1);
        ch.writeInbound(Unpooled.buffer().writeByte(2)); // trickling: a byte does not restart the deadline
        advance(1);
        assertFalse(ch.isOpen());
        assertEquals(1, metrics.frameTimeouts.sum());
        assertEquals(0, memory.used());
    }

    @Test
    void shouldKeepAConnectionThatCompletesEveryFrameOpenWhateverTheirNumber() {
        EmbeddedChannel ch = channel();
        for (int i = 0; i < 1000; i++) {
            ch.writeInbound(frame(4, i));
            assertFrame(ch, 4);
        }
        advance(TIMEOUT_MS);
        assertTrue(ch.isOpen());
        assertEquals(0, metrics.frameTimeouts.sum());
    }

    @Test
    void shouldGiveEachFrameItsOwnDeadline() {
        EmbeddedChannel ch = channel();
        for (int i = 0; i < 5; i++) {
            ch.writeInbound(frame(4, i));
            assertFrame(ch, 4);
            advance(TIMEOUT_MS - 1);
        }
        ch.writeInbound(Unpooled.buffer().writeShort(0));
        advance(TIMEOUT_MS - 1);
        assertTrue(ch.isOpen());
        advance(1);
        assertFalse(ch.isOpen(), "half a size field counts as a started frame");
    }

    @Test
    void shouldStopTheDeadlineWhileTheServerDoesNotRead() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.buffer().writeInt(100).writeByte(1));
        decoder.pause(FrameDecoder.Pause.QUEUE_FULL);
        advance(10 * TIMEOUT_MS);
        assertTrue(ch.isOpen(), "the client cannot finish while we do not read");
        decoder.resume(FrameDecoder.Pause.QUEUE_FULL);
        advance(TIMEOUT_MS - 1);
        assertTrue(ch.isOpen(), "a resume restarts the full deadline");
        advance(1);
        assertFalse(ch.isOpen());
    }

    @Test
    void shouldReadOnlyWhenNoPauseReasonIsLeft() {
        EmbeddedChannel ch = channel();
        decoder.pause(FrameDecoder.Pause.QUEUE_FULL);
        decoder.pause(FrameDecoder.Pause.UNWRITABLE);
        assertFalse(ch.config().isAutoRead());
        decoder.resume(FrameDecoder.Pause.QUEUE_FULL);
        assertFalse(ch.config().isAutoRead(), "still unwritable");
        decoder.resume(FrameDecoder.Pause.UNWRITABLE);
        assertTrue(ch.config().isAutoRead());
    }

    @Test
    void shouldNotBoundMemoryWhenTheBoundIsOff() {
        memory = RequestMemory.unbounded();
        EmbeddedChannel ch = channel();
        ch.writeInbound(frame(900, 1), frame(900, 2), frame(900, 3));
        assertFrame(ch, 900);
        assertFrame(ch, 900);
        assertFrame(ch, 900);
    }
}
