package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class FaultProxyTest {
    private static final Duration AWAIT = Duration.ofSeconds(10);
    private static final short ACKS_ALL = -1;

    private FakeKafkaServer server;
    private FaultProxy proxy;

    @BeforeEach
    void startServer() throws IOException {
        server = new FakeKafkaServer(0);
    }

    @AfterEach
    void stopAll() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        server.close();
    }

    private RawClient connect(FaultConfig config) throws IOException {
        if (proxy == null) {
            proxy = FaultProxy.start(server.address(), config);
        }
        return new RawClient(proxy.address());
    }

    private static FaultConfig only(FaultKind kind) {
        return FaultConfig.builder(1L).rate(kind, 1.0).delay(Duration.ofMillis(300)).build();
    }

    @Test
    void shouldForwardRequestsAndResponsesInOrderWhenNoFaultIsConfigured() throws IOException {
        try (RawClient client = connect(FaultConfig.none())) {
            int versions = client.sendApiVersions();
            RawClient.Response r = client.read();
            assertEquals(versions, r.correlationId());
            ApiVersionsResponse body = ApiVersionsResponse.read(r.body((short) 0), (short) 3);
            assertEquals(0, body.errorCode);

            List<Integer> sent = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                sent.add(client.sendProduce(ACKS_ALL));
            }
            for (int expected : sent) {
                RawClient.Response produced = client.read();
                assertEquals(expected, produced.correlationId());
                ProduceResponse.read(produced.body((short) 1), (short) 9);
            }
        }
        assertEquals(10, server.produceRequests.get());
        assertEquals(11, proxy.requests());
        assertEquals(0, proxy.totalFaults());
    }

    @Test
    void shouldAdvertiseItselfAsEveryBrokerInMetadataResponses() throws IOException {
        try (RawClient client = connect(FaultConfig.none())) {
            for (short version : new short[] {1, 8, 9}) {
                client.sendMetadata(version, "events");
                MetadataResponse m = MetadataResponse.read(
                    client.read().body(ApiKey.METADATA.responseHeaderVersion(version)), version);
                assertEquals(1, m.brokers.size());
                assertEquals("127.0.0.1", m.brokers.get(0).host);
                assertEquals(proxy.port(), m.brokers.get(0).port);
                assertEquals(1, m.findTopic("events").partitions.get(0).leaderId);
            }
        }
    }

    @Test
    void shouldSendADuplicatedRequestTwiceAndHideTheSecondResponse() throws IOException {
        try (RawClient client = connect(only(FaultKind.DUPLICATE_REQUEST))) {
            int a = client.sendProduce(ACKS_ALL);
            int b = client.sendProduce(ACKS_ALL);
            int c = client.sendApiVersions(); // out of scope: not duplicated
            assertEquals(a, client.read().correlationId());
            assertEquals(b, client.read().correlationId());
            assertEquals(c, client.read().correlationId(), "no extra response in between");
        }
        assertEquals(4, server.produceRequests.get());
        assertEquals(2, proxy.count(FaultKind.DUPLICATE_REQUEST));
    }

    @Test
    void shouldDropTheResponseAndResetTheConnectionOnBothSides() throws IOException {
        try (RawClient client = connect(only(FaultKind.DROP_RESPONSE))) {
            client.sendProduce(ACKS_ALL);
            assertThrows(IOException.class, client::read);
        }
        assertEquals(1, server.produceRequests.get(), "the server did the work");
        Await.until("the server side of the connection is closed", AWAIT,
            () -> server.closedConnections.get() == 1);
        assertEquals(1, proxy.count(FaultKind.DROP_RESPONSE));
        assertTrue(proxy.recentEvents().get(0).contains("DROP_RESPONSE"), proxy.recentEvents().toString());
    }

    @Test
    void shouldForwardOnlyAPrefixOfTheRequestBeforeResettingTheConnection() throws IOException {
        try (RawClient client = connect(only(FaultKind.RESET_MID_REQUEST))) {
            client.sendProduce(ACKS_ALL);
            assertThrows(IOException.class, client::read);
        }
        Await.until("the server saw a truncated frame", AWAIT, () -> server.closedConnections.get() == 1);
        assertEquals(0, server.produceRequests.get(), "a partial request must not be acted on");
        assertEquals(1, proxy.count(FaultKind.RESET_MID_REQUEST));
    }

    @Test
    void shouldDelayAResponseAndKeepTheResponsesBehindItInOrder() throws IOException {
        try (RawClient client = connect(only(FaultKind.DELAY_RESPONSE))) {
            long start = System.nanoTime();
            int produce = client.sendProduce(ACKS_ALL);
            int versions = client.sendApiVersions();
            assertEquals(produce, client.read().correlationId());
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(versions, client.read().correlationId());
            assertTrue(elapsedMs >= 300, "delivered after " + elapsedMs + " ms");
        }
        assertEquals(1, proxy.count(FaultKind.DELAY_RESPONSE));
    }

    @Test
    void shouldNotApplyResponseFaultsToProduceRequestsWithAcksZero() throws IOException {
        try (RawClient client = connect(only(FaultKind.DROP_RESPONSE))) {
            client.sendProduce((short) 0);
            int versions = client.sendApiVersions();
            assertEquals(versions, client.read().correlationId());
        }
        assertEquals(1, server.produceRequests.get());
        assertEquals(0, proxy.totalFaults());
    }

    @Test
    void shouldInjectIntoEveryApiWhenTheScopeIsAll() throws IOException {
        FaultConfig config = FaultConfig.builder(1L).rate(FaultKind.DROP_RESPONSE, 1.0).scope(FaultScope.ALL)
            .build();
        try (RawClient client = connect(config)) {
            client.sendApiVersions();
            assertThrows(IOException.class, client::read);
        }
        assertEquals(1, proxy.count(FaultKind.DROP_RESPONSE));
    }

    @Test
    void shouldForwardUntouchedWhileFaultsAreDisabled() throws IOException {
        try (RawClient client = connect(only(FaultKind.DROP_RESPONSE))) {
            proxy.setFaultsEnabled(false);
            int produce = client.sendProduce(ACKS_ALL);
            assertEquals(produce, client.read().correlationId());
            proxy.setFaultsEnabled(true);
            client.sendProduce(ACKS_ALL);
            assertThrows(IOException.class, client::read);
        }
        assertEquals(1, proxy.count(FaultKind.DROP_RESPONSE));
    }

    @Test
    void shouldHoldTrafficWhilePausedAndForwardItOnResume() throws IOException {
        try (RawClient client = connect(FaultConfig.none())) {
            assertEquals(client.sendApiVersions(), client.read().correlationId());
            proxy.pause();
            int held = client.sendProduce(ACKS_ALL);
            Await.until("the proxy holds the request", AWAIT, () -> proxy.heldRequests() == 1);
            assertEquals(0, server.produceRequests.get());
            proxy.resume();
            assertEquals(held, client.read().correlationId());
        }
        assertEquals(1, server.produceRequests.get());
    }

    @Test
    void shouldResetEveryConnectionOnRequest() throws IOException {
        try (RawClient client = connect(FaultConfig.none())) {
            assertEquals(client.sendApiVersions(), client.read().correlationId());
            proxy.resetAllConnections();
            assertThrows(IOException.class, client::read);
        }
        assertEquals(0, proxy.totalFaults());
    }

    @Test
    void shouldSendNewConnectionsToTheNewUpstream() throws IOException {
        try (FakeKafkaServer other = new FakeKafkaServer(0)) {
            proxy = FaultProxy.start(server.address(), FaultConfig.none());
            proxy.setUpstream(other.address());
            try (RawClient client = new RawClient(proxy.address())) {
                assertEquals(client.sendProduce(ACKS_ALL), client.read().correlationId());
            }
            assertEquals(1, other.produceRequests.get());
            assertEquals(0, server.produceRequests.get());
        }
    }

    @Test
    void shouldInjectTheSameFaultsForTheSameSeedAndTraffic() throws IOException {
        FaultConfig config = FaultConfig.builder(99L).rate(FaultKind.DUPLICATE_REQUEST, 0.3)
            .rate(FaultKind.DELAY_RESPONSE, 0.3).delay(Duration.ZERO).build();
        List<List<String>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            try (FaultProxy p = FaultProxy.start(server.address(), config);
                 RawClient client = new RawClient(p.address())) {
                for (int i = 0; i < 50; i++) {
                    assertEquals(client.sendProduce(ACKS_ALL), client.read().correlationId());
                }
                runs.add(p.recentEvents());
                assertTrue(p.totalFaults() > 10, p.toString());
            }
        }
        assertEquals(runs.get(0), runs.get(1));
    }

    @Test
    void shouldStopItsThreadAndPortOnClose() throws IOException {
        proxy = FaultProxy.start(server.address(), FaultConfig.none());
        int port = proxy.port();
        try (RawClient client = new RawClient(proxy.address())) {
            assertEquals(client.sendApiVersions(), client.read().correlationId());
            proxy.close();
            assertThrows(IOException.class, client::read);
        }
        assertThrows(ConnectException.class, () -> new Socket(Ports.LOOPBACK, port).close());
        Await.until("the proxy thread is gone", AWAIT, () -> Thread.getAllStackTraces().keySet().stream()
            .noneMatch(t -> t.getName().startsWith("fault-proxy")));
        assertFalse(proxy.toString().isEmpty());
    }
}
