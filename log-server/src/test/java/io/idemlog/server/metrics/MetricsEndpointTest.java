package io.idemlog.server.metrics;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scrapes the Prometheus endpoint during a produce run over the wire (real storage, acks=all) and checks the
 * counters against what the run did, exactly: batches by outcome per topic (appended, duplicate, out_of_order,
 * fenced, corrupt), records, requests and error codes by API and version, the latency histogram's count, fsyncs
 * and records per group commit, connections, bytes. The run is scraped twice, mid-way and at the end, so a value
 * that did not follow the run (a constant, a counter bound to the wrong thing) fails one of the two.
 */
class MetricsEndpointTest {
    private static final short PRODUCE_V = 9;

    @TempDir
    Path dir;

    private IdemlogServer server;

    private IdemlogServer start(Map<String, String> extra) throws IOException, InterruptedException {
        Map<String, String> props = new HashMap<>();
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        props.put("create.topics", "m1:2");
        props.put("metrics.listener", "http://127.0.0.1:0");
        props.put("metrics.log.interval.ms", "0");
        props.putAll(extra);
        server = IdemlogServer.start(ServerConfig.of(props),
            (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
        return server;
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    static MemoryRecords batch(long producerId, int epoch, int baseSequence, int records) {
        ByteBuffer buf = ByteBuffer.allocate(64 + records * 40);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        for (int i = 0; i < records; i++) {
            assertTrue(b.tryAppend(1000 + i, null, ("value-" + i).getBytes(StandardCharsets.UTF_8), null));
        }
        buf.limit(b.close());
        new RecordBatch(buf, 0).stampProducerState(producerId, (short) epoch, baseSequence);
        return new MemoryRecords(buf);
    }

    static ProduceRequest produce(String topic, int partition, MemoryRecords records) {
        ProduceRequest req = new ProduceRequest();
        req.acks = -1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData(topic);
        td.partitions.add(new ProduceRequest.PartitionData(partition, records));
        req.topics.add(td);
        return req;
    }

    private static ErrorCode send(WireClient c, String topic, int partition, MemoryRecords records)
        throws IOException {
        ProduceResponse rsp = c.call(ApiKey.PRODUCE, PRODUCE_V, produce(topic, partition, records));
        return ErrorCode.forCode(rsp.topics.get(0).partitions.get(0).errorCode);
    }

    private long initProducerId(WireClient c) throws IOException {
        InitProducerIdRequest req = new InitProducerIdRequest();
        req.transactionTimeoutMs = 60_000;
        InitProducerIdResponse rsp = c.call(ApiKey.INIT_PRODUCER_ID, (short) 2, req);
        assertEquals(0, rsp.errorCode);
        return rsp.producerId;
    }

    @Test
    void shouldCountEveryOutcomeOfAProduceRunExactly() throws Exception {
        start(Map.of("metrics.jmx.domain", "idemlog-test-" + System.nanoTime()));
        int port = server.metricsService().port();
        assertTrue(port > 0);
        try (WireClient c = new WireClient(server.port())) {
            long pid = initProducerId(c);
            // phase 1: 7 batches of 3 records to m1-0 and 4 batches of 5 records to m1-1, all appended
            for (int s = 0; s < 7; s++) {
                assertEquals(ErrorCode.NONE, send(c, "m1", 0, batch(pid, 0, s * 3, 3)));
            }
            for (int s = 0; s < 4; s++) {
                assertEquals(ErrorCode.NONE, send(c, "m1", 1, batch(pid, 0, s * 5, 5)));
            }
            Scrape mid = scrape(port);
            assertEquals(7 + 4, mid.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "appended"));
            assertEquals(21 + 20, mid.value("idemlog_produce_records_total", "topic", "m1"));
            assertEquals(0, mid.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "duplicate"));
            assertEquals(11, mid.value("idemlog_requests_total", "api", "produce", "version", "9"));
            assertEquals(1, mid.value("idemlog_requests_total", "api", "init_producer_id", "version", "2"));
            assertEquals(11, mid.value("idemlog_request_latency_seconds_count", "api", "produce"));
            // acks=all: every one of the 41 records was fsync'd before its answer, each by exactly one commit
            assertEquals(41, mid.value("idemlog_storage_group_commit_records_sum"));
            double fsyncs = mid.value("idemlog_storage_fsync_seconds_count");
            assertTrue(fsyncs >= 1 && fsyncs <= 11, "fsyncs " + fsyncs);
            assertEquals(fsyncs, mid.value("idemlog_storage_group_commit_records_count"));
            assertEquals(1, mid.value("idemlog_network_connections"));

            // phase 2: retries (duplicates), a gap, a fenced epoch, a corrupt batch, an unknown partition
            assertEquals(ErrorCode.NONE, send(c, "m1", 0, batch(pid, 0, 6 * 3, 3))); // the last batch again
            assertEquals(ErrorCode.NONE, send(c, "m1", 0, batch(pid, 0, 5 * 3, 3))); // an earlier one
            assertEquals(ErrorCode.NONE, send(c, "m1", 1, batch(pid, 0, 3 * 5, 5)));
            assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, send(c, "m1", 0, batch(pid, 0, 100, 3)));
            assertEquals(ErrorCode.NONE, send(c, "m1", 1, batch(pid, 1, 0, 2))); // a new epoch: appended
            assertEquals(ErrorCode.INVALID_PRODUCER_EPOCH, send(c, "m1", 1, batch(pid, 0, 20, 5)));
            assertEquals(ErrorCode.INVALID_PRODUCER_EPOCH, send(c, "m1", 1, batch(pid, 0, 25, 5)));
            MemoryRecords corrupt = batch(pid, 0, 21, 3);
            ByteBuffer b = corrupt.buffer();
            b.put(b.limit() - 2, (byte) (b.get(b.limit() - 2) ^ 0x5A)); // a value byte: the CRC no longer matches
            assertEquals(ErrorCode.CORRUPT_MESSAGE, send(c, "m1", 0, corrupt));
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, send(c, "m1", 7, batch(pid, 0, 0, 1)));
            MetadataRequest md = new MetadataRequest();
            md.topics = List.of("no-such-topic");
            md.allowAutoTopicCreation = false;
            MetadataResponse mr = c.call(ApiKey.METADATA, (short) 9, md);
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code, mr.topics.get(0).errorCode);

            Scrape end = scrape(port);
            assertEquals(7 + 4 + 1, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "appended"));
            assertEquals(3, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "duplicate"));
            assertEquals(1, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "out_of_order"));
            assertEquals(2, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "fenced"));
            assertEquals(1, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "corrupt"));
            assertEquals(0, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "storage_error"));
            assertEquals(0, end.value("idemlog_produce_batches_total", "topic", "m1", "outcome", "other_error"));
            assertEquals(41 + 2, end.value("idemlog_produce_records_total", "topic", "m1"));
            assertEquals(3, end.value("idemlog_produce_duplicate_batches_total"));
            assertEquals(11 + 9, end.value("idemlog_requests_total", "api", "produce", "version", "9"));
            assertEquals(1, end.value("idemlog_requests_total", "api", "metadata", "version", "9"));
            assertEquals(1, end.value("idemlog_request_errors_total", "api", "produce", "version", "9",
                "error", "out_of_order_sequence_number"));
            assertEquals(2, end.value("idemlog_request_errors_total", "api", "produce", "version", "9",
                "error", "invalid_producer_epoch"));
            assertEquals(1, end.value("idemlog_request_errors_total", "api", "produce", "version", "9",
                "error", "corrupt_message"));
            assertEquals(1, end.value("idemlog_request_errors_total", "api", "produce", "version", "9",
                "error", "unknown_topic_or_partition"));
            assertEquals(1, end.value("idemlog_request_errors_total", "api", "metadata", "version", "9",
                "error", "unknown_topic_or_partition"));
            assertFalse(end.has("idemlog_request_errors_total", "api", "produce", "version", "9", "error", "none"));
            assertEquals(11 + 9, end.value("idemlog_request_latency_seconds_count", "api", "produce"));
            assertEquals(43, end.value("idemlog_storage_group_commit_records_sum"));
            assertTrue(end.value("idemlog_network_bytes_in_total") > mid.value("idemlog_network_bytes_in_total"));
            assertTrue(end.value("idemlog_network_bytes_out_total") > mid.value("idemlog_network_bytes_out_total"));
            assertEquals(1, end.value("idemlog_network_connections_opened_total"));
            assertEquals(2, end.value("idemlog_producer_state_producers")); // one producer, state in 2 partitions
            assertEquals(0, end.value("idemlog_producer_state_evictions_total"));
            assertEquals(1, end.value("idemlog_producer_ids_allocated_total"));
        }
        // the server saw the close: open connections back to 0, closed 1 (the close reaches the event loop
        // asynchronously: wait for the counter, bounded)
        long deadline = System.nanoTime() + 10_000_000_000L;
        Scrape after = scrape(port);
        while (after.value("idemlog_network_connections_closed_total") < 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            after = scrape(port);
        }
        assertEquals(1, after.value("idemlog_network_connections_closed_total"));
        assertEquals(0, after.value("idemlog_network_connections"));
    }

    @Test
    void shouldRegisterTheMetersAsMBeansAndAddedCountersEverywhere() throws Exception {
        String domain = "idemlog-test-" + System.nanoTime();
        start(Map.of("metrics.jmx.domain", domain));
        var added = server.metrics().counter("idemlog.test.widget.creations", "widgets made", "kind", "blue");
        added.add(5);
        assertEquals(added, server.metrics().counter("idemlog.test.widget.creations", "widgets made", "kind",
            "blue"));
        Scrape s = scrape(server.metricsService().port());
        assertEquals(5, s.value("idemlog_test_widget_creations_total", "kind", "blue"));
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = mbeans.queryNames(new ObjectName(domain + ":*"), null);
        assertTrue(names.stream().anyMatch(n -> n.toString().contains("idemlogTestWidgetCreations")),
            names.toString());
        assertTrue(names.stream().anyMatch(n -> n.toString().contains("idemlogStorageFsync")), names.toString());
        assertTrue(names.stream().noneMatch(n -> n.toString().contains("Histogram")), "no bucket MBeans: " + names);
        server.close();
        assertTrue(mbeans.queryNames(new ObjectName(domain + ":*"), null).isEmpty(), "MBeans left after close");
        server = null;
    }

    @Test
    void shouldServeNoEndpointByDefaultAndAnswer404ElsewhereThanMetrics() throws Exception {
        start(Map.of("metrics.listener", "", "metrics.jmx.enable", "false"));
        assertEquals(-1, server.metricsService().port());
        assertNull(server.metricsService().scrape());
        server.close();
        server = null;
        start(Map.of("metrics.jmx.enable", "false"));
        HttpResponse<String> rsp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.metricsService().port() + "/other")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(404, rsp.statusCode());
    }

    /** One scrape, parsed: sample name, labels, value. */
    record Scrape(List<Sample> samples, String text) {
        record Sample(String name, Map<String, String> labels, double value) {
        }

        boolean has(String name, String... labels) {
            return find(name, labels) != null;
        }

        double value(String name, String... labels) {
            Sample s = find(name, labels);
            if (s == null) {
                throw new AssertionError("no sample " + name + " " + List.of(labels) + " in\n" + text);
            }
            return s.value();
        }

        private Sample find(String name, String... labels) {
            Sample found = null;
            for (Sample s : samples) {
                if (!s.name().equals(name)) {
                    continue;
                }
                boolean all = true;
                for (int i = 0; i < labels.length; i += 2) {
                    all &= labels[i + 1].equals(s.labels().get(labels[i]));
                }
                if (all) {
                    if (found != null) {
                        throw new AssertionError("more than one sample " + name + " " + List.of(labels));
                    }
                    found = s;
                }
            }
            return found;
        }
    }

    static Scrape scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> rsp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, rsp.statusCode());
        assertTrue(rsp.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        return parse(rsp.body());
    }

    static Scrape parse(String text) {
        List<Scrape.Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                String body = line.substring(brace + 1, line.lastIndexOf('}'));
                for (String kv : body.split("\",")) {
                    if (kv.isBlank()) {
                        continue;
                    }
                    int eq = kv.indexOf('=');
                    String v = kv.substring(eq + 1).trim();
                    if (v.startsWith("\"")) {
                        v = v.substring(1);
                    }
                    if (v.endsWith("\"")) {
                        v = v.substring(0, v.length() - 1);
                    }
                    labels.put(kv.substring(0, eq).trim().replace(",", ""), v);
                }
            } else {
                name = line.substring(0, space);
            }
            samples.add(new Scrape.Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
        }
        return new Scrape(samples, text);
    }
}
