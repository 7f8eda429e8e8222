package io.idemlog.bench.metrics;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.server.handler.ServerMetrics;
import io.idemlog.server.handler.TopicProduceMetrics;
import io.idemlog.server.log.LogStore;
import io.idemlog.server.log.Partition;
import io.idemlog.server.log.StorageMetrics;
import io.idemlog.server.metrics.MetricsService;
import io.idemlog.server.metrics.ServerMeters;
import io.idemlog.server.network.NetworkMetrics;
import io.idemlog.server.network.RequestMetrics;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the server's metrics cost one Produce request of 8 partitions (one batch each), and its 8 group-commit
 * fsyncs: the request counter, the latency timer, per batch the topic lookup and its counters, the server-wide and
 * network counters, per fsync the latency timer and the records-per-commit summary — exactly the calls the request
 * path makes, against the registries the server builds ({@link MetricsService}):
 * <ul>
 *   <li>{@code none}: no endpoint, no JMX (the composite registry has no child: the timers record nothing);</li>
 *   <li>{@code prometheus}: metrics.listener set, JMX off;</li>
 *   <li>{@code prometheus_jmx}: both (JMX is on by default).</li>
 * </ul>
 * One operation = one request. Divide by the records per request (e2e at max throughput: about 4,400) for the cost
 * per record.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MetricsOverheadBenchmark {
    private static final String TOPIC = "orders-events";
    private static final int PARTITIONS = 8;

    @Param({"none", "prometheus", "prometheus_jmx"})
    String registries;

    private ServerMetrics server;
    private NetworkMetrics network;
    private RequestMetrics requests;
    private StorageMetrics storage;
    private MetricsService service;

    /** Storage with no partitions: only its counters are needed. */
    private static final class NoLogs implements LogStore {
        private final StorageMetrics metrics = new StorageMetrics();

        @Override
        public Partition partition(String topic, int index) {
            return null;
        }

        @Override
        public int partitionCount(String topic) {
            return -1;
        }

        @Override
        public Map<String, Integer> topics() {
            return Map.of();
        }

        @Override
        public int createTopic(String topic, int partitions) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long nextProducerId() {
            throw new UnsupportedOperationException();
        }

        @Override
        public StorageMetrics metrics() {
            return metrics;
        }

        @Override
        public void close() {
        }
    }

    @Setup
    public void setUp() throws IOException {
        server = new ServerMetrics();
        network = new NetworkMetrics();
        requests = network.requests;
        NoLogs logs = new NoLogs();
        storage = logs.metrics();
        boolean prometheus = !registries.equals("none");
        boolean jmx = registries.equals("prometheus_jmx");
        service = MetricsService.start(new MetricsService.Settings(prometheus ? "127.0.0.1" : null, 0, jmx,
            "idemlog-bench-" + System.nanoTime()), new ServerMeters(server, network, () -> 0L, logs));
        server.topic(TOPIC); // the topic's counters exist after its first produce
        if (prometheus) {
            service.scrape(); // and its meters after the first scrape
        }
    }

    @TearDown
    public void tearDown() {
        service.close();
    }

    @Benchmark
    public long produceRequest() {
        long t0 = System.nanoTime();
        requests.request(ApiKey.PRODUCE, (short) 9);
        network.bytesIn.add(48_000);
        for (int p = 0; p < PARTITIONS; p++) {
            TopicProduceMetrics topic = server.topic(TOPIC);
            server.batchesAppended.increment();
            server.bytesAppended.add(6_000);
            topic.batches(TopicProduceMetrics.Outcome.APPENDED).increment();
            topic.recordsAppended.add(550);
            topic.bytesAppended.add(6_000);
        }
        for (int p = 0; p < PARTITIONS; p++) {
            storage.fsyncLatencyObserver.accept(180_000);
            storage.commitRecordsObserver.accept(550);
        }
        network.bytesOut.add(300);
        long t = System.nanoTime() - t0;
        requests.latency(ApiKey.PRODUCE, t);
        return t;
    }
}
