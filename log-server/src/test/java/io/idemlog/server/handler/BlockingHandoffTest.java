package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.DeleteRecordsRequest;
import io.idemlog.common.protocol.message.DeleteRecordsResponse;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.InMemoryLogStore;
import io.idemlog.server.WireClient;
import io.idemlog.server.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Blocking file work of a request (topic auto-creation, producer-id blocks) runs on the storage-io thread: with one
 * network thread and a disk that does not answer, other connections are still served, and the waiting connection's
 * answers keep their order.
 */
class BlockingHandoffTest {
    @TempDir
    Path dir;

    private IdemlogServer server;
    private InMemoryLogStore store;
    private final CountDownLatch gate = new CountDownLatch(1);

    @BeforeEach
    void start() throws Exception {
        server = IdemlogServer.start(ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
            "log.dirs", dir.toString(), "num.network.threads", "1")), (d, c, l) -> store = new InMemoryLogStore(l));
    }

    @AfterEach
    void stop() throws IOException {
        gate.countDown();
        server.close();
    }

    private static MetadataRequest metadata(String... topics) {
        MetadataRequest req = new MetadataRequest();
        req.topics = List.of(topics);
        return req;
    }

    @Test
    void shouldServeOtherConnectionsWhileATopicIsBeingCreated() throws IOException {
        store.diskGate = gate;
        try (WireClient creating = new WireClient(server.port()); WireClient other = new WireClient(server.port())) {
            int id = creating.send(ApiKey.METADATA, (short) 9, metadata("fresh"));
            ApiVersionsResponse versions = other.call(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
            assertEquals(0, versions.errorCode, "answered while the disk holds the topic creation");
            assertTrue(creating.silentFor(200), "the creating request waits for its disk");
            gate.countDown();
            MetadataResponse rsp = creating.receive(ApiKey.METADATA, (short) 9, id);
            assertEquals(0, rsp.findTopic("fresh").errorCode);
            assertEquals(1, rsp.findTopic("fresh").partitions.size());
        }
        assertEquals(Set.of("idemlog-storage-io"), store.diskThreads);
    }

    @Test
    void shouldKeepAnswerOrderOnTheConnectionThatWaits() throws IOException {
        store.diskGate = gate;
        try (WireClient c = new WireClient(server.port())) {
            int metadataId = c.send(ApiKey.METADATA, (short) 9, metadata("a", "b", "c"));
            int versionsId = c.send(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
            assertTrue(c.silentFor(200), "ApiVersions' answer waits behind the Metadata answer");
            gate.countDown();
            MetadataResponse rsp = c.receive(ApiKey.METADATA, (short) 9, metadataId);
            assertEquals(List.of("a", "b", "c"), rsp.topics.stream().map(t -> t.name).toList());
            c.receive(ApiKey.API_VERSIONS, (short) 2, versionsId);
        }
    }

    @Test
    void shouldServeOtherConnectionsWhileAProducerIdBlockIsFsynced() throws IOException {
        store.diskGate = gate;
        try (WireClient init = new WireClient(server.port()); WireClient other = new WireClient(server.port())) {
            int id = init.send(ApiKey.INIT_PRODUCER_ID, (short) 2, new InitProducerIdRequest());
            ApiVersionsResponse versions = other.call(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
            assertEquals(0, versions.errorCode);
            gate.countDown();
            InitProducerIdResponse rsp = init.receive(ApiKey.INIT_PRODUCER_ID, (short) 2, id);
            assertEquals(0, rsp.errorCode);
            assertEquals(0L, rsp.producerId);
        }
        assertEquals(Set.of("idemlog-storage-io"), store.diskThreads);
    }

    private static DeleteRecordsRequest deleteRecords(String topic, int partition, long offset) {
        DeleteRecordsRequest req = new DeleteRecordsRequest();
        DeleteRecordsRequest.Topic t = new DeleteRecordsRequest.Topic(topic);
        t.partitions.add(new DeleteRecordsRequest.Partition(partition, offset));
        req.topics.add(t);
        return req;
    }

    @Test
    void shouldServeOtherConnectionsWhileDeleteRecordsWaitsForItsDisk() throws IOException {
        store.createTopic("t", 1);
        store.diskThreads.clear();
        store.diskGate = gate;
        try (WireClient deleting = new WireClient(server.port()); WireClient other = new WireClient(server.port())) {
            int id = deleting.send(ApiKey.DELETE_RECORDS, (short) 2, deleteRecords("t", 0, 0L));
            ApiVersionsResponse versions = other.call(ApiKey.API_VERSIONS, (short) 2, new ApiVersionsRequest());
            assertEquals(0, versions.errorCode, "answered while the disk holds the DeleteRecords");
            assertTrue(deleting.silentFor(200), "the DeleteRecords answer waits for its disk");
            gate.countDown();
            DeleteRecordsResponse rsp = deleting.receive(ApiKey.DELETE_RECORDS, (short) 2, id);
            assertEquals(0, rsp.topics.get(0).partitions.get(0).errorCode);
        }
        assertEquals(Set.of("idemlog-storage-io"), store.diskThreads);
    }

    @Test
    void shouldAnswerStorageErrorWhenTheLogStartCannotBeWritten() throws IOException {
        store.createTopic("t", 1);
        store.deleteRecordsFailure = new IOException("disk full");
        try (WireClient c = new WireClient(server.port())) {
            DeleteRecordsResponse rsp = c.call(ApiKey.DELETE_RECORDS, (short) 1, deleteRecords("t", 0, 0L));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code, rsp.topics.get(0).partitions.get(0).errorCode);
            assertEquals(-1L, rsp.topics.get(0).partitions.get(0).lowWatermark);
        }
        assertEquals(1L, server.metrics().storageErrors.sum());
    }

    @Test
    void shouldAnswerStorageErrorForATopicTheDiskCannotCreate() throws IOException {
        store.createFailure = new IOException("disk full");
        try (WireClient c = new WireClient(server.port())) {
            MetadataResponse rsp = c.call(ApiKey.METADATA, (short) 9, metadata("fresh"));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code, rsp.findTopic("fresh").errorCode);
        }
        assertEquals(1L, server.metrics().storageErrors.sum());
    }

    @Test
    void shouldCloseTheConnectionAndCountABugInTopicCreation() throws IOException {
        store.createFailure = new IllegalStateException("a bug");
        try (WireClient c = new WireClient(server.port())) {
            c.send(ApiKey.METADATA, (short) 9, metadata("fresh"));
            assertTrue(c.closedByPeer(5000), "a bug is not reported as a storage error");
        }
        assertEquals(1L, server.metrics().internalErrors.sum());
        assertEquals(0L, server.metrics().storageErrors.sum());
    }
}
