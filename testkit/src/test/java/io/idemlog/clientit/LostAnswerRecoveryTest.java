package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerMetrics;
import io.idemlog.client.RecordMetadata;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import io.idemlog.testkit.Await;
import io.idemlog.testkit.FaultConfig;
import io.idemlog.testkit.FaultProxy;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Produce answer lost on a connection that stays open (the proxy swallows it, {@link FaultProxy#loseProduceAnswers})
 * is recovered without waiting for request.timeout.ms (docs/CLIENT.md "Faults that cost little"):
 * <ul>
 *   <li>when it was the last request in flight, by the lost-answer probe: a small Metadata request whose answer,
 *       coming in request order, proves the earlier answer lost; the control with probes off recovers through the
 *       request timeout instead (the old path), as the metrics say;</li>
 *   <li>when a later request is answered, by that answer: the batch is re-sent at once on the same connection and
 *       the server answers it as a duplicate with its original offset. The control without idempotence shows that
 *       the re-send really reaches the log (the record is stored twice there).</li>
 * </ul>
 * The path taken is asserted through the producer's metrics, not through elapsed time. request.timeout.ms is long
 * (60 s) in the runs that must not use it, and the futures are awaited for less than that.
 */
@Timeout(180)
class LostAnswerRecoveryTest {
    private static final String TOPIC = "lost";

    @TempDir
    Path dir;

    private IdemlogServer startServer() throws Exception {
        return IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs",
                dir.toString(), "create.topics", TOPIC + ":2", "metrics.jmx.enable", "false",
                "metrics.log.interval.ms", "0")),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
    }

    private static ProducerConfig.Builder producer(FaultProxy proxy) {
        // stall.timeout.ms=0: the connection is never given up early, so only the lever under test can act.
        return ProducerConfig.builder().bootstrapServers(proxy.bootstrap()).lingerMs(0).stallTimeoutMs(0)
            .retryBackoffMs(10).reconnectBackoffMs(10).maxBlockMs(30_000);
    }

    @Test
    void shouldRecoverALostLastAnswerThroughAProbeNotTheRequestTimeout() throws Exception {
        try (IdemlogServer server = startServer();
             FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", server.port()),
                 FaultConfig.none());
             IdemlogProducer producer = IdemlogProducer.create(producer(proxy).requestTimeoutMs(60_000)
                 .deliveryTimeoutMs(120_000).answerProbeMs(100).build())) {
            producer.send(TOPIC, 0, null, "warm".getBytes(), null).get(30, TimeUnit.SECONDS);
            ProducerMetrics m = producer.metrics();
            long probes0 = m.probesSent();
            proxy.loseProduceAnswers(1);
            RecordMetadata md = producer.send(TOPIC, 0, null, "lost-answer".getBytes(), null)
                .get(30, TimeUnit.SECONDS);
            assertEquals(1, proxy.answersLost(), proxy.toString());
            assertEquals(1L, md.offset(), "the re-sent batch is answered with its original offset");
            assertEquals(1, m.answersLost(), m.toString());
            assertTrue(m.probesSent() > probes0, m.toString());
            assertEquals(0, m.requestTimeouts(), m.toString());
            assertEquals(1, m.batchesRetried(), m.toString());
            assertEquals(2, server.logs().partition(TOPIC, 0).logEndOffset(), "no record stored twice");
        }
    }

    @Test
    void controlWithoutProbesTheLostLastAnswerWaitsForTheRequestTimeout() throws Exception {
        try (IdemlogServer server = startServer();
             FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", server.port()),
                 FaultConfig.none());
             IdemlogProducer producer = IdemlogProducer.create(producer(proxy).requestTimeoutMs(1_500)
                 .deliveryTimeoutMs(120_000).answerProbeMs(0).build())) {
            producer.send(TOPIC, 0, null, "warm".getBytes(), null).get(30, TimeUnit.SECONDS);
            proxy.loseProduceAnswers(1);
            CompletableFuture<RecordMetadata> f = producer.send(TOPIC, 0, null, "lost-answer".getBytes(), null);
            ProducerMetrics m = producer.metrics();
            Await.until(() -> "the record acknowledged: " + m + ", " + proxy + ", " + proxy.recentEvents(),
                Duration.ofSeconds(60), f::isDone);
            RecordMetadata md = f.get();
            assertEquals(1, proxy.answersLost(), proxy.toString());
            assertEquals(1L, md.offset());
            assertEquals(0, m.answersLost(), m.toString());
            assertEquals(0, m.probesSent(), m.toString());
            assertEquals(1, m.requestTimeouts(), "recovered through the request timeout: " + m);
            assertEquals(2, server.logs().partition(TOPIC, 0).logEndOffset(), "no record stored twice");
        }
    }

    /** Sends a record whose answer is lost, then (once it is gone) one more on the other partition. */
    private static RecordMetadata[] loseThenSendLater(IdemlogProducer producer, FaultProxy proxy) throws Exception {
        producer.send(TOPIC, 0, null, "warm".getBytes(), null).get(30, TimeUnit.SECONDS);
        proxy.loseProduceAnswers(1);
        CompletableFuture<RecordMetadata> lost = producer.send(TOPIC, 0, null, "lost-answer".getBytes(), null);
        Await.until(() -> "the answer lost: " + proxy, Duration.ofSeconds(30), () -> proxy.answersLost() == 1);
        RecordMetadata later = producer.send(TOPIC, 1, null, "later".getBytes(), null).get(30, TimeUnit.SECONDS);
        return new RecordMetadata[] {lost.get(30, TimeUnit.SECONDS), later};
    }

    @Test
    void shouldReSendAtOnceWhenALaterAnswerProvesTheLossAndNotStoreItTwice() throws Exception {
        try (IdemlogServer server = startServer();
             FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", server.port()),
                 FaultConfig.none());
             IdemlogProducer producer = IdemlogProducer.create(producer(proxy).requestTimeoutMs(60_000)
                 .deliveryTimeoutMs(120_000).answerProbeMs(0).build())) {
            RecordMetadata[] md = loseThenSendLater(producer, proxy);
            ProducerMetrics m = producer.metrics();
            assertEquals(1L, md[0].offset(), "the duplicate is answered with its original offset");
            assertEquals(0L, md[1].offset());
            assertEquals(1, m.answersLost(), m.toString());
            assertEquals(0, m.requestTimeouts(), m.toString());
            assertEquals(0, m.connectionFailures(), "the connection was kept: " + m);
            assertEquals(1, m.batchesRetried(), m.toString());
            assertEquals(2, server.logs().partition(TOPIC, 0).logEndOffset(), "no record stored twice");
        }
    }

    @Test
    void controlWithoutIdempotenceTheReSentRecordIsStoredTwice() throws Exception {
        try (IdemlogServer server = startServer();
             FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", server.port()),
                 FaultConfig.none());
             IdemlogProducer producer = IdemlogProducer.create(producer(proxy).idempotence(false)
                 .requestTimeoutMs(60_000).deliveryTimeoutMs(120_000).answerProbeMs(0).build())) {
            RecordMetadata[] md = loseThenSendLater(producer, proxy);
            ProducerMetrics m = producer.metrics();
            assertEquals(1, m.answersLost(), m.toString());
            assertEquals(2L, md[0].offset(), "without idempotence the re-send is a new record");
            assertEquals(3, server.logs().partition(TOPIC, 0).logEndOffset(), "the lost-answer record twice");
        }
    }
}
