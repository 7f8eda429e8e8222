package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.record.RecordBatchBuilder;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static io.idemlog.common.protocol.message.CodecOracle.decodeWhole;
import static io.idemlog.common.protocol.message.CodecOracle.kafkaBytes;
import static io.idemlog.common.protocol.message.CodecOracle.ours;

/**
 * kafka-clients' own generated message classes as a second oracle, for EVERY version idemlog advertises (the
 * captures cover only the versions real clients happened to negotiate): a fully populated message serialised by
 * kafka-clients must decode with idemlog's codec to the same field values and re-encode to the same bytes; and
 * what idemlog encodes, kafka-clients must read back and re-serialise identically.
 */
class KafkaClientsOracleTest {

    private static org.apache.kafka.common.record.MemoryRecords kafkaRecords() {
        ByteBuffer buf = ByteBuffer.allocate(512);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        b.tryAppend(1_700_000_000_000L, "k".getBytes(), "value".getBytes(), null);
        b.tryAppend(1_700_000_000_001L, null, "v2".getBytes(), null);
        int size = b.close();
        return org.apache.kafka.common.record.MemoryRecords.readableRecords(buf.limit(size).slice());
    }

    /**
     * The two-way check for one version: kafka bytes -> ours -> same bytes; our bytes -> kafka -> same bytes.
     */
    private static <T extends Message> void check(org.apache.kafka.common.protocol.Message kafka, short version,
                                                  BiFunction<WireReader, Short, T> ourReader,
                                                  CodecOracle.KafkaReader kafkaReader,
                                                  Consumer<T> fieldChecks) {
        byte[] theirs = kafkaBytes(kafka, version);
        T decoded = decodeWhole(theirs, version, ourReader);
        fieldChecks.accept(decoded);
        byte[] reencoded = ours(decoded, version);
        assertArrayEquals(theirs, reencoded, "idemlog re-encoding differs");
        org.apache.kafka.common.protocol.Message back = kafkaReader.read(
            new ByteBufferAccessor(ByteBuffer.wrap(reencoded)), version);
        assertArrayEquals(theirs, kafkaBytes(back, version), "kafka-clients reads idemlog's bytes differently");
    }

    private static Stream<DynamicTest> versions(ApiKey api, String what, java.util.function.IntConsumer test) {
        return CodecOracle.versions(api.toString(), api.minVersion, api.maxVersion, what, test);
    }

    @TestFactory
    Stream<DynamicTest> apiVersions() {
        return Stream.concat(
            versions(ApiKey.API_VERSIONS, "request", v -> {
                ApiVersionsRequestData k = new ApiVersionsRequestData();
                if (v >= 3) {
                    k.setClientSoftwareName("apache-kafka-java").setClientSoftwareVersion("4.1.1");
                }
                check(k, (short) v, ApiVersionsRequest::read, ApiVersionsRequestData::new, m -> {
                    if (v >= 3) {
                        assertEquals("apache-kafka-java", m.clientSoftwareName);
                    }
                });
            }),
            versions(ApiKey.API_VERSIONS, "response", v -> {
                ApiVersionsResponseData k = new ApiVersionsResponseData().setErrorCode((short) 35);
                k.apiKeys().add(new ApiVersionsResponseData.ApiVersion().setApiKey((short) 0)
                    .setMinVersion((short) 3).setMaxVersion((short) 9));
                k.apiKeys().add(new ApiVersionsResponseData.ApiVersion().setApiKey((short) 18)
                    .setMinVersion((short) 0).setMaxVersion((short) 3));
                if (v >= 1) {
                    k.setThrottleTimeMs(17);
                }
                if (v >= 3) {
                    k.setFinalizedFeaturesEpoch(5L);
                    k.supportedFeatures().add(new ApiVersionsResponseData.SupportedFeatureKey()
                        .setName("metadata.version").setMinVersion((short) 1).setMaxVersion((short) 27));
                }
                check(k, (short) v, ApiVersionsResponse::read, ApiVersionsResponseData::new, m -> {
                    assertEquals(35, m.errorCode);
                    assertEquals(2, m.apiKeys.size());
                    assertEquals(9, m.find((short) 0).maxVersion);
                    assertEquals(v >= 1 ? 17 : 0, m.throttleTimeMs);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> metadata() {
        return Stream.concat(
            versions(ApiKey.METADATA, "request", v -> {
                MetadataRequestData k = new MetadataRequestData();
                List<MetadataRequestData.MetadataRequestTopic> topics = new ArrayList<>();
                topics.add(new MetadataRequestData.MetadataRequestTopic().setName("orders"));
                topics.add(new MetadataRequestData.MetadataRequestTopic().setName("orders"));
                k.setTopics(topics);
                if (v >= 4) {
                    k.setAllowAutoTopicCreation(false);
                }
                if (v >= 8) {
                    k.setIncludeTopicAuthorizedOperations(true);
                }
                if (v >= 8 && v <= 10) {
                    k.setIncludeClusterAuthorizedOperations(true);
                }
                if (v >= 10) {
                    topics.add(new MetadataRequestData.MetadataRequestTopic().setName(null)
                        .setTopicId(new org.apache.kafka.common.Uuid(5L, 6L)));
                }
                check(k, (short) v, MetadataRequest::read, MetadataRequestData::new, m -> {
                    if (v >= 10) {
                        assertEquals(java.util.Arrays.asList("orders", "orders", null), m.topics);
                        assertEquals(new java.util.UUID(5L, 6L), m.topicIds.get(2));
                        return;
                    }
                    assertEquals(List.of("orders", "orders"), m.topics);
                    assertEquals(v < 4, m.allowAutoTopicCreation);
                });
                if (v >= 1) {
                    MetadataRequestData all = new MetadataRequestData().setTopics(null);
                    check(all, (short) v, MetadataRequest::read, MetadataRequestData::new, m -> assertNull(m.topics));
                }
            }),
            versions(ApiKey.METADATA, "response", v -> {
                MetadataResponseData k = new MetadataResponseData();
                if (v >= 3) {
                    k.setThrottleTimeMs(3);
                }
                MetadataResponseData.MetadataResponseBroker broker = new MetadataResponseData.MetadataResponseBroker()
                    .setNodeId(1).setHost("127.0.0.1").setPort(9092);
                if (v >= 1) {
                    broker.setRack("rack-a");
                    k.setControllerId(1);
                }
                k.brokers().add(broker);
                if (v >= 2) {
                    k.setClusterId("c-1");
                }
                MetadataResponseData.MetadataResponseTopic t = new MetadataResponseData.MetadataResponseTopic()
                    .setErrorCode((short) 0).setName("orders");
                if (v >= 1) {
                    t.setIsInternal(false);
                }
                MetadataResponseData.MetadataResponsePartition p = new MetadataResponseData.MetadataResponsePartition()
                    .setPartitionIndex(2).setLeaderId(1).setReplicaNodes(List.of(1, 2)).setIsrNodes(List.of(1));
                if (v >= 7) {
                    p.setLeaderEpoch(4);
                }
                if (v >= 5) {
                    p.setOfflineReplicas(List.of(2));
                }
                t.setPartitions(List.of(p));
                if (v >= 8) {
                    t.setTopicAuthorizedOperations(123);
                }
                if (v >= 8 && v <= 10) {
                    k.setClusterAuthorizedOperations(456);
                }
                if (v >= 10) {
                    t.setTopicId(new org.apache.kafka.common.Uuid(7L, 8L));
                }
                k.topics().add(t);
                check(k, (short) v, MetadataResponse::read, MetadataResponseData::new, m -> {
                    assertEquals(9092, m.brokers.get(0).port);
                    MetadataResponse.Partition mp = m.findTopic("orders").partitions.get(0);
                    assertEquals(2, mp.partitionIndex);
                    assertArrayEquals(new int[] {1, 2}, mp.replicaNodes);
                    assertEquals(v >= 7 ? 4 : -1, mp.leaderEpoch);
                    assertEquals(v >= 10 ? new java.util.UUID(7L, 8L) : new java.util.UUID(0, 0),
                        m.findTopic("orders").topicId);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> initProducerId() {
        return Stream.concat(
            versions(ApiKey.INIT_PRODUCER_ID, "request", v -> {
                InitProducerIdRequestData k = new InitProducerIdRequestData().setTransactionalId(null)
                    .setTransactionTimeoutMs(Integer.MAX_VALUE);
                check(k, (short) v, InitProducerIdRequest::read, InitProducerIdRequestData::new, m -> {
                    assertNull(m.transactionalId);
                    assertEquals(Integer.MAX_VALUE, m.transactionTimeoutMs);
                });
            }),
            versions(ApiKey.INIT_PRODUCER_ID, "response", v -> {
                InitProducerIdResponseData k = new InitProducerIdResponseData().setThrottleTimeMs(1)
                    .setErrorCode((short) 0).setProducerId(1234567890123L).setProducerEpoch((short) 7);
                check(k, (short) v, InitProducerIdResponse::read, InitProducerIdResponseData::new, m -> {
                    assertEquals(1234567890123L, m.producerId);
                    assertEquals(7, m.producerEpoch);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> produce() {
        return Stream.concat(
            versions(ApiKey.PRODUCE, "request", v -> {
                org.apache.kafka.common.record.MemoryRecords records = kafkaRecords();
                ProduceRequestData k = new ProduceRequestData().setTransactionalId(null).setAcks((short) -1)
                    .setTimeoutMs(30_000);
                ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName("orders");
                t.setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(3).setRecords(records),
                    new ProduceRequestData.PartitionProduceData().setIndex(4).setRecords(null)));
                k.topicData().add(t);
                check(k, (short) v, ProduceRequest::read, ProduceRequestData::new, m -> {
                    assertEquals(-1, m.acks);
                    assertEquals(30_000, m.timeoutMs);
                    assertEquals("orders", m.topics.get(0).name);
                    assertEquals(3, m.topics.get(0).partitions.get(0).index);
                    assertEquals(records.sizeInBytes(), m.topics.get(0).partitions.get(0).records.sizeInBytes());
                    MemoryRecordsAssert.assertSingleValidBatch(m.topics.get(0).partitions.get(0).records, 2);
                    assertNull(m.topics.get(0).partitions.get(1).records);
                });
            }),
            versions(ApiKey.PRODUCE, "response", v -> {
                ProduceResponseData k = new ProduceResponseData().setThrottleTimeMs(5);
                ProduceResponseData.PartitionProduceResponse p = new ProduceResponseData.PartitionProduceResponse()
                    .setIndex(3).setErrorCode((short) 45).setBaseOffset(-1).setLogAppendTimeMs(-1);
                if (v >= 5) {
                    p.setLogStartOffset(100);
                }
                if (v >= 8) {
                    p.setErrorMessage("out of order").setRecordErrors(List.of(
                        new ProduceResponseData.BatchIndexAndErrorMessage().setBatchIndex(1)
                            .setBatchIndexErrorMessage("bad")));
                }
                ProduceResponseData.PartitionProduceResponse ok = new ProduceResponseData.PartitionProduceResponse()
                    .setIndex(4).setErrorCode((short) 0).setBaseOffset(12345L).setLogAppendTimeMs(-1);
                ProduceResponseData.TopicProduceResponse t = new ProduceResponseData.TopicProduceResponse()
                    .setName("orders").setPartitionResponses(List.of(p, ok));
                k.responses().add(t);
                check(k, (short) v, ProduceResponse::read, ProduceResponseData::new, m -> {
                    ProduceResponse.PartitionResponse a = m.topics.get(0).partitions.get(0);
                    assertEquals(45, a.errorCode);
                    assertEquals(v >= 5 ? 100 : -1, a.logStartOffset);
                    assertEquals(v >= 8 ? "out of order" : null, a.errorMessage);
                    assertEquals(12345L, m.topics.get(0).partitions.get(1).baseOffset);
                    assertEquals(5, m.throttleTimeMs);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> listOffsets() {
        return Stream.concat(
            versions(ApiKey.LIST_OFFSETS, "request", v -> {
                ListOffsetsRequestData k = new ListOffsetsRequestData().setReplicaId(-1);
                if (v >= 2) {
                    k.setIsolationLevel((byte) 1);
                }
                ListOffsetsRequestData.ListOffsetsPartition p = new ListOffsetsRequestData.ListOffsetsPartition()
                    .setPartitionIndex(1).setTimestamp(-2L);
                if (v >= 4) {
                    p.setCurrentLeaderEpoch(9);
                }
                k.setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName("orders")
                    .setPartitions(List.of(p))));
                check(k, (short) v, ListOffsetsRequest::read, ListOffsetsRequestData::new, m -> {
                    assertEquals(-2L, m.topics.get(0).partitions.get(0).timestamp);
                    assertEquals(v >= 4 ? 9 : -1, m.topics.get(0).partitions.get(0).currentLeaderEpoch);
                });
            }),
            versions(ApiKey.LIST_OFFSETS, "response", v -> {
                ListOffsetsResponseData k = new ListOffsetsResponseData();
                if (v >= 2) {
                    k.setThrottleTimeMs(2);
                }
                ListOffsetsResponseData.ListOffsetsPartitionResponse p =
                    new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(1)
                        .setErrorCode((short) 0).setTimestamp(1_700_000_000_000L).setOffset(42L);
                if (v >= 4) {
                    p.setLeaderEpoch(3);
                }
                k.setTopics(List.of(new ListOffsetsResponseData.ListOffsetsTopicResponse().setName("orders")
                    .setPartitions(List.of(p))));
                check(k, (short) v, ListOffsetsResponse::read, ListOffsetsResponseData::new, m -> {
                    assertEquals(42L, m.topics.get(0).partitions.get(0).offset);
                    assertEquals(1_700_000_000_000L, m.topics.get(0).partitions.get(0).timestamp);
                });
            }));
    }

    @TestFactory
    Stream<DynamicTest> fetch() {
        return Stream.concat(
            versions(ApiKey.FETCH, "request", v -> {
                FetchRequestData k = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(500).setMinBytes(1)
                    .setMaxBytes(52_428_800).setIsolationLevel((byte) 0);
                if (v >= 7) {
                    k.setSessionId(0).setSessionEpoch(-1);
                }
                FetchRequestData.FetchPartition p = new FetchRequestData.FetchPartition().setPartition(2)
                    .setFetchOffset(1000L).setPartitionMaxBytes(1_048_576);
                if (v >= 9) {
                    p.setCurrentLeaderEpoch(5);
                }
                if (v >= 12) {
                    p.setLastFetchedEpoch(4);
                }
                if (v >= 5) {
                    p.setLogStartOffset(10L);
                }
                k.setTopics(List.of(new FetchRequestData.FetchTopic().setTopic("orders").setPartitions(List.of(p))));
                if (v >= 7) {
                    k.setForgottenTopicsData(List.of(new FetchRequestData.ForgottenTopic().setTopic("old")
                        .setPartitions(List.of(0, 1))));
                }
                if (v >= 11) {
                    k.setRackId("rack-a");
                }
                check(k, (short) v, FetchRequest::read, FetchRequestData::new, m -> {
                    FetchRequest.Partition mp = m.topics.get(0).partitions.get(0);
                    assertEquals(1000L, mp.fetchOffset);
                    assertEquals(1_048_576, mp.partitionMaxBytes);
                    assertEquals(500, m.maxWaitMs);
                    assertEquals(52_428_800, m.maxBytes);
                });
            }),
            versions(ApiKey.FETCH, "response", v -> {
                org.apache.kafka.common.record.MemoryRecords records = kafkaRecords();
                FetchResponseData k = new FetchResponseData().setThrottleTimeMs(0);
                if (v >= 7) {
                    k.setErrorCode((short) 0).setSessionId(0);
                }
                FetchResponseData.PartitionData p = new FetchResponseData.PartitionData().setPartitionIndex(2)
                    .setErrorCode((short) 0).setHighWatermark(2000L).setLastStableOffset(2000L)
                    .setAbortedTransactions(null).setRecords(records);
                if (v >= 5) {
                    p.setLogStartOffset(10L);
                }
                if (v >= 11) {
                    p.setPreferredReadReplica(-1);
                }
                FetchResponseData.PartitionData empty = new FetchResponseData.PartitionData().setPartitionIndex(3)
                    .setErrorCode((short) 1).setHighWatermark(-1).setAbortedTransactions(List.of(
                        new FetchResponseData.AbortedTransaction().setProducerId(7).setFirstOffset(8)))
                    .setRecords(org.apache.kafka.common.record.MemoryRecords.EMPTY);
                k.setResponses(List.of(new FetchResponseData.FetchableTopicResponse().setTopic("orders")
                    .setPartitions(List.of(p, empty))));
                check(k, (short) v, FetchResponse::read, FetchResponseData::new, m -> {
                    FetchResponse.Partition mp = m.topics.get(0).partitions.get(0);
                    assertEquals(2000L, mp.highWatermark);
                    assertNull(mp.abortedTransactions);
                    MemoryRecordsAssert.assertSingleValidBatch(mp.records, 2);
                    assertEquals(1, m.topics.get(0).partitions.get(1).abortedTransactions.size());
                });
            }));
    }
}
