package io.idemlog.server.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.InMemoryLogStore;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 8 defect 7 over real sockets: clients that start big frames and never finish them hold at most
 * queued.max.request.bytes in total (the rest wait, unread), healthy clients are still served, and every abuser is
 * closed by the frame deadline, which returns its memory.
 */
class AbuseTest {
    @TempDir
    Path dir;

    private IdemlogServer server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private static void await(BooleanSupplier condition, long timeoutMs, String what) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private long counter(String name) {
        return server.counters().get(name);
    }

    @Test
    void partialFramesHoldAtMostTheBoundAndAreClosedByTheDeadline() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "socket.request.max.bytes", "150000", "queued.max.request.bytes", "200000",
            "socket.request.read.timeout.ms", "1000")), (d, c, l) -> new InMemoryLogStore(l));
        List<WireClient> abusers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                WireClient c = new WireClient(server.port());
                abusers.add(c);
                // a 90,000-byte frame of which 10 bytes ever arrive
                c.sendBytes(ByteBuffer.allocate(14).putInt(90_000).array());
            }
            await(() -> counter("network.memory_waits") >= 1, 10_000, "the third abuser to wait for memory");
            assertEquals(180_000L, counter("network.request_bytes_in_use"), "two reservations fit, the third waits");
            try (WireClient healthy = new WireClient(server.port())) {
                ApiVersionsResponse rsp = healthy.call(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
                assertEquals(0, rsp.errorCode, "a small request still fits under the bound");
            }
            for (WireClient c : abusers) {
                assertTrue(c.closedByPeer(10_000), "an unfinished frame ends with the connection");
            }
            await(() -> counter("network.frame_timeouts") == 3, 10_000, "three frame timeouts");
            await(() -> counter("network.request_bytes_in_use") == 0, 10_000, "every reservation returned");
        } finally {
            for (WireClient c : abusers) {
                c.close();
            }
        }
    }

    @Test
    void aTricklingClientIsClosedAlthoughEveryByteResetsTheIdleTimer() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "connections.max.idle.ms", "60000", "socket.request.read.timeout.ms",
            "1000")), (d, c, l) -> new InMemoryLogStore(l));
        try (WireClient c = new WireClient(server.port())) {
            c.sendBytes(ByteBuffer.allocate(4).putInt(1000).array());
            long start = System.nanoTime();
            boolean closed = false;
            // one byte every 100 ms, for at most 10 s
            while (!closed && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10)) {
                try {
                    c.sendBytes(new byte[] {1});
                } catch (IOException e) {
                    closed = true;
                    break;
                }
                closed = c.closedByPeer(100);
            }
            assertTrue(closed, "closed by socket.request.read.timeout.ms, not kept open by the trickle");
            assertEquals(1L, counter("network.frame_timeouts"));
        }
    }
}
