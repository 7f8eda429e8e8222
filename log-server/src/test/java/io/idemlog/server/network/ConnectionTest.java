package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.server.WireClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Connection} in memory: answers leave in request order whatever order they are given in, the read pause
 * follows the one rule (pending answers against queued.max.requests.per.connection), unknown keys are named, and
 * every frame's memory reservation is returned.
 */
class ConnectionTest {
    private static final int MAX_QUEUED = 3;

    private final NetworkMetrics metrics = new NetworkMetrics();
    private final RequestMemory memory = new RequestMemory(1 << 20);
    /** Requests the test handler received and has not answered. */
    private final List<RequestContext> deferred = new ArrayList<>();
    private EmbeddedChannel channel;

    private EmbeddedChannel channel() {
        ConnectionShared shared = new ConnectionShared(1 << 16, 30_000, MAX_QUEUED, memory, metrics,
            new LogLimiter(1000, 1000, SystemNanoClock.INSTANCE), SystemNanoClock.INSTANCE);
        ApiHandler[] handlers = new ApiHandler[ApiKey.ID_LIMIT];
        handlers[ApiKey.API_VERSIONS.id] = (ctx, body) -> deferred.add(ctx);
        FrameDecoder frames = new FrameDecoder(shared);
        channel = new EmbeddedChannel(frames, new Connection(handlers, shared, frames));
        return channel;
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static ByteBuf request(int correlationId) {
        byte[] body = WireClient.encode(ApiKey.API_VERSIONS, (short) 2, correlationId, new ApiVersionsRequest());
        return Unpooled.buffer().writeInt(body.length).writeBytes(body);
    }

    private static void answer(RequestContext ctx) {
        ctx.respond(new ApiVersionsResponse());
    }

    /** The correlation ids of the answers written so far, in order. */
    private List<Integer> answered() {
        List<Integer> ids = new ArrayList<>();
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            ByteBuffer nio = ByteBuffer.allocate(out.readableBytes());
            out.readBytes(nio);
            out.release();
            nio.flip();
            nio.getInt(); // size
            ids.add(ResponseHeader.read(new WireReader(nio), (short) 0));
        }
        return ids;
    }

    @Test
    void shouldWriteAnswersInRequestOrderWhenTheyCompleteOutOfOrder() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(1), request(2), request(3));
        assertEquals(3, deferred.size());
        answer(deferred.get(2));
        answer(deferred.get(1));
        assertEquals(List.of(), answered(), "nothing leaves before the first request's answer");
        answer(deferred.get(0));
        assertEquals(List.of(1, 2, 3), answered());
        assertEquals(0, memory.used(), "every frame's reservation returned once handled");
    }

    @Test
    void shouldPauseReadingAtTheQueueLimitAndResumeBelowItOneRule() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(1), request(2));
        assertTrue(ch.config().isAutoRead());
        ch.writeInbound(request(3));
        assertFalse(ch.config().isAutoRead(), MAX_QUEUED + " answers pending: stop reading");
        answer(deferred.get(0));
        assertEquals(List.of(1), answered());
        assertTrue(ch.config().isAutoRead(), "one below the limit: read again");
        ch.writeInbound(request(4));
        assertFalse(ch.config().isAutoRead());
    }

    /** A handler that holds reading for every request (as Produce does for a batch without a producer id). */
    private EmbeddedChannel holdingChannel(boolean oneAtATime) {
        ConnectionShared shared = new ConnectionShared(1 << 16, 30_000, 100, memory, metrics,
            new LogLimiter(1000, 1000, SystemNanoClock.INSTANCE), SystemNanoClock.INSTANCE, oneAtATime);
        ApiHandler[] handlers = new ApiHandler[ApiKey.ID_LIMIT];
        handlers[ApiKey.API_VERSIONS.id] = (ctx, body) -> {
            ctx.holdReadingUntilAnswered();
            deferred.add(ctx);
        };
        FrameDecoder frames = new FrameDecoder(shared);
        channel = new EmbeddedChannel(frames, new Connection(handlers, shared, frames));
        return channel;
    }

    @Test
    void shouldHandleOneHeldRequestAtATimeEvenWhenMoreArrivedInOneRead() {
        // produce.non.idempotent.one.at.a.time: three requests in ONE socket read; only the first is handled until
        // it is answered (the others stay unread bytes, lost if the connection resets, as with Kafka's muted
        // channel); each answer lets exactly the next one in.
        EmbeddedChannel ch = holdingChannel(true);
        ByteBuf three = Unpooled.buffer().writeBytes(request(1)).writeBytes(request(2)).writeBytes(request(3));
        ch.writeInbound(three);
        assertEquals(1, deferred.size(), "the second and third request are not handled while the first holds");
        assertFalse(ch.config().isAutoRead());
        answer(deferred.get(0));
        ch.runPendingTasks();
        assertEquals(List.of(1), answered());
        assertEquals(2, deferred.size(), "the answer let the next buffered request in, with no new socket read");
        answer(deferred.get(1));
        ch.runPendingTasks();
        assertEquals(3, deferred.size());
        answer(deferred.get(2));
        ch.runPendingTasks();
        assertEquals(List.of(2, 3), answered());
        assertTrue(ch.config().isAutoRead());
        assertEquals(0, memory.used());
    }

    @Test
    void controlWithTheOptionOffEveryRequestOfTheReadIsHandled() {
        EmbeddedChannel ch = holdingChannel(false);
        ByteBuf three = Unpooled.buffer().writeBytes(request(1)).writeBytes(request(2)).writeBytes(request(3));
        ch.writeInbound(three);
        assertEquals(3, deferred.size(), "pipelined: all three handled before any answer");
    }

    @Test
    void shouldCloseOnAKnownKafkaApiIdemlogDoesNotServeAndCountIt() {
        EmbeddedChannel ch = channel();
        // ADD_PARTITIONS_TO_TXN (24) v3, correlation id 7, then a client id (transactions are not served; the
        // group APIs that this test used before, FIND_COORDINATOR, are served since issue 9)
        ch.writeInbound(Unpooled.buffer().writeInt(10).writeShort(24).writeShort(3).writeInt(7).writeShort(0));
        assertFalse(ch.isOpen());
        assertEquals(1, metrics.unsupportedRequests.sum());
        assertNull(ch.readOutbound());
        assertEquals(0, memory.used());
    }

    /** Before: logged only (no counter) and the connection stayed open with the request unanswered. */
    @Test
    void shouldCloseOnABugInWorkDeferredToTheEndOfTheReadBurstAndCountIt() {
        ConnectionShared shared = new ConnectionShared(1 << 16, 30_000, MAX_QUEUED, memory, metrics,
            new LogLimiter(1000, 1000, SystemNanoClock.INSTANCE), SystemNanoClock.INSTANCE);
        ApiHandler[] handlers = new ApiHandler[ApiKey.ID_LIMIT];
        handlers[ApiKey.API_VERSIONS.id] = (ctx, body) -> ctx.afterReadBurst(this, (key, keys) -> {
            throw new IllegalStateException("a bug");
        });
        FrameDecoder frames = new FrameDecoder(shared);
        channel = new EmbeddedChannel(frames, new Connection(handlers, shared, frames));
        channel.writeInbound(request(1));
        assertFalse(channel.isOpen());
        assertEquals(1, metrics.handlerErrors.sum());
        assertNull(channel.readOutbound());
        assertEquals(0, memory.used());
    }

    @Test
    void shouldCloseOnAHandlerBugAndCountIt() {
        ConnectionShared shared = new ConnectionShared(1 << 16, 30_000, MAX_QUEUED, memory, metrics,
            new LogLimiter(1000, 1000, SystemNanoClock.INSTANCE), SystemNanoClock.INSTANCE);
        ApiHandler[] handlers = new ApiHandler[ApiKey.ID_LIMIT];
        handlers[ApiKey.API_VERSIONS.id] = (ctx, body) -> {
            throw new IllegalStateException("a bug");
        };
        FrameDecoder frames = new FrameDecoder(shared);
        channel = new EmbeddedChannel(frames, new Connection(handlers, shared, frames));
        channel.writeInbound(request(1));
        assertFalse(channel.isOpen());
        assertEquals(1, metrics.handlerErrors.sum());
        assertEquals(0, memory.used());
    }
}
