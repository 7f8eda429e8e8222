package io.idemlog.client.internal.net;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** reconnect.backoff.ms doubled per failed attempt after the first, bounded by reconnect.backoff.max.ms. */
class ReconnectBackoffTest {
    @Test
    void shouldDoubleFromTheBaseUpToTheMax() {
        assertEquals(50, NettyTransport.backoff(50, 1000, 1));
        assertEquals(100, NettyTransport.backoff(50, 1000, 2));
        assertEquals(200, NettyTransport.backoff(50, 1000, 3));
        assertEquals(800, NettyTransport.backoff(50, 1000, 5));
        assertEquals(1000, NettyTransport.backoff(50, 1000, 6));
        assertEquals(1000, NettyTransport.backoff(50, 1000, 1_000_000));
        assertEquals(300, NettyTransport.backoff(300, 300, 4));
    }

    @Test
    void shouldNotOverflowWithHugeValues() {
        assertEquals(Long.MAX_VALUE, NettyTransport.backoff(Long.MAX_VALUE / 3, Long.MAX_VALUE, 64));
        assertEquals(Long.MAX_VALUE - 1, NettyTransport.backoff(1, Long.MAX_VALUE - 1, 100));
    }
}
