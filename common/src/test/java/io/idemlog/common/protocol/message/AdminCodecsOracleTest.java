package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static io.idemlog.common.protocol.message.CodecOracle.roundTrip;
import static io.idemlog.common.protocol.message.CodecOracle.versions;

/**
 * Golden frames for the topic admin codecs (issue 10): for every version idemlog implements, a populated message
 * serialised by kafka-clients' own generated class decodes with idemlog's codec and re-encodes to the same bytes,
 * and kafka-clients reads those bytes back to an equal message. Field values are checked where they matter to the
 * handlers (names, counts, configs, ids, nullable fields).
 */
class AdminCodecsOracleTest {
    private static final Uuid ID = new Uuid(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L);

    private static Stream<DynamicTest> each(ApiKey api, String what, IntFunction<Runnable> test) {
        return versions(api.toString(), api.minVersion, api.maxVersion, what, v -> test.apply(v).run());
    }

    @TestFactory
    Stream<DynamicTest> createTopics() {
        return Stream.concat(each(ApiKey.CREATE_TOPICS, "request", v -> () -> {
            CreateTopicsRequestData k = new CreateTopicsRequestData().setTimeoutMs(30_000).setValidateOnly(true);
            CreateTopicsRequestData.CreatableTopic a = new CreateTopicsRequestData.CreatableTopic().setName("orders")
                .setNumPartitions(3).setReplicationFactor((short) 1);
            a.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms")
                .setValue("1000"));
            a.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("x").setValue(null));
            CreateTopicsRequestData.CreatableTopic b = new CreateTopicsRequestData.CreatableTopic().setName("manual")
                .setNumPartitions(-1).setReplicationFactor((short) -1);
            b.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0)
                .setBrokerIds(List.of(1)));
            b.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(1)
                .setBrokerIds(List.of(1, 2)));
            k.topics().add(a);
            k.topics().add(b);
            CreateTopicsRequest m = roundTrip(k, (short) v, CreateTopicsRequest::read, CreateTopicsRequestData::new);
            assertEquals(2, m.topics.size());
            assertEquals("orders", m.topics.get(0).name);
            assertEquals(3, m.topics.get(0).numPartitions);
            assertEquals("1000", m.topics.get(0).configs.get(0).value);
            assertEquals(null, m.topics.get(0).configs.get(1).value);
            assertArrayEquals(new int[] {1, 2}, m.topics.get(1).assignments.get(1).brokerIds);
            assertEquals(true, m.validateOnly);
        }), each(ApiKey.CREATE_TOPICS, "response", v -> () -> {
            CreateTopicsResponseData k = new CreateTopicsResponseData().setThrottleTimeMs(0);
            CreateTopicsResponseData.CreatableTopicResult ok = new CreateTopicsResponseData.CreatableTopicResult()
                .setName("orders").setErrorCode((short) 0).setErrorMessage(null);
            CreateTopicsResponseData.CreatableTopicResult bad = new CreateTopicsResponseData.CreatableTopicResult()
                .setName("bad").setErrorCode((short) 40).setErrorMessage("unknown topic config 'x'");
            if (v >= 5) {
                ok.setNumPartitions(3).setReplicationFactor((short) 1);
                ok.setConfigs(new ArrayList<>(List.of(new CreateTopicsResponseData.CreatableTopicConfigs()
                    .setName("retention.ms").setValue("1000").setConfigSource((byte) 1),
                    new CreateTopicsResponseData.CreatableTopicConfigs().setName("segment.bytes")
                        .setValue("1073741824").setConfigSource((byte) 5).setReadOnly(false))));
                bad.setNumPartitions(-1).setReplicationFactor((short) -1).setConfigs(null);
            }
            if (v >= 7) {
                ok.setTopicId(ID);
            }
            k.topics().add(ok);
            k.topics().add(bad);
            CreateTopicsResponse m = roundTrip(k, (short) v, CreateTopicsResponse::read,
                CreateTopicsResponseData::new);
            assertEquals(40, m.topics.get(1).errorCode);
            if (v >= 5) {
                assertEquals(2, m.topics.get(0).configs.size());
                assertEquals(null, m.topics.get(1).configs);
            }
            if (v >= 7) {
                assertEquals(ID.getMostSignificantBits(), m.topics.get(0).topicId.getMostSignificantBits());
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> deleteTopics() {
        return Stream.concat(each(ApiKey.DELETE_TOPICS, "request", v -> () -> {
            DeleteTopicsRequestData k = new DeleteTopicsRequestData().setTimeoutMs(15_000);
            if (v >= 6) {
                k.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("a"));
                k.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName(null).setTopicId(ID));
            } else {
                k.setTopicNames(List.of("a", "b"));
            }
            DeleteTopicsRequest m = roundTrip(k, (short) v, DeleteTopicsRequest::read, DeleteTopicsRequestData::new);
            assertEquals("a", m.topics.get(0).name);
            assertEquals(v >= 6 ? null : "b", m.topics.get(1).name);
            assertEquals(15_000, m.timeoutMs);
        }), each(ApiKey.DELETE_TOPICS, "response", v -> () -> {
            DeleteTopicsResponseData k = new DeleteTopicsResponseData().setThrottleTimeMs(0);
            DeleteTopicsResponseData.DeletableTopicResult a = new DeleteTopicsResponseData.DeletableTopicResult()
                .setName("a").setErrorCode((short) 0);
            DeleteTopicsResponseData.DeletableTopicResult b = new DeleteTopicsResponseData.DeletableTopicResult()
                .setName("b").setErrorCode((short) 3);
            if (v >= 5) {
                b.setErrorMessage("no such topic");
            }
            if (v >= 6) {
                a.setTopicId(ID);
            }
            k.responses().add(a);
            k.responses().add(b);
            DeleteTopicsResponse m = roundTrip(k, (short) v, DeleteTopicsResponse::read,
                DeleteTopicsResponseData::new);
            assertEquals(3, m.responses.get(1).errorCode);
        }));
    }

    @TestFactory
    Stream<DynamicTest> describeConfigs() {
        return Stream.concat(each(ApiKey.DESCRIBE_CONFIGS, "request", v -> () -> {
            DescribeConfigsRequestData k = new DescribeConfigsRequestData().setIncludeSynonyms(true);
            if (v >= 3) {
                k.setIncludeDocumentation(true);
            }
            k.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                .setResourceName("orders").setConfigurationKeys(null));
            k.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                .setResourceName("1").setConfigurationKeys(List.of("log.retention.hours")));
            DescribeConfigsRequest m = roundTrip(k, (short) v, DescribeConfigsRequest::read,
                DescribeConfigsRequestData::new);
            assertEquals(null, m.resources.get(0).configurationKeys);
            assertEquals(List.of("log.retention.hours"), m.resources.get(1).configurationKeys);
            assertEquals(true, m.includeSynonyms);
        }), each(ApiKey.DESCRIBE_CONFIGS, "response", v -> () -> {
            DescribeConfigsResponseData k = new DescribeConfigsResponseData().setThrottleTimeMs(0);
            DescribeConfigsResponseData.DescribeConfigsResult r = new DescribeConfigsResponseData
                .DescribeConfigsResult().setErrorCode((short) 0).setErrorMessage(null).setResourceType((byte) 2)
                .setResourceName("orders");
            DescribeConfigsResponseData.DescribeConfigsResourceResult c = new DescribeConfigsResponseData
                .DescribeConfigsResourceResult().setName("retention.ms").setValue("1000").setReadOnly(false)
                .setConfigSource((byte) 1).setIsSensitive(false);
            c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName("retention.ms")
                .setValue("1000").setSource((byte) 1));
            c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName("log.retention.ms")
                .setValue(null).setSource((byte) 5));
            if (v >= 3) {
                c.setConfigType((byte) 5).setDocumentation("doc");
            }
            r.configs().add(c);
            k.results().add(r);
            k.results().add(new DescribeConfigsResponseData.DescribeConfigsResult().setErrorCode((short) 3)
                .setErrorMessage("Topic 'x' does not exist.").setResourceType((byte) 2).setResourceName("x"));
            DescribeConfigsResponse m = roundTrip(k, (short) v, DescribeConfigsResponse::read,
                DescribeConfigsResponseData::new);
            assertEquals(2, m.results.get(0).configs.get(0).synonyms.size());
            assertEquals("Topic 'x' does not exist.", m.results.get(1).errorMessage);
        }));
    }

    @TestFactory
    Stream<DynamicTest> createPartitions() {
        return Stream.concat(each(ApiKey.CREATE_PARTITIONS, "request", v -> () -> {
            CreatePartitionsRequestData k = new CreatePartitionsRequestData().setTimeoutMs(5000).setValidateOnly(true);
            k.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("a").setCount(5)
                .setAssignments(null));
            k.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("b").setCount(2)
                .setAssignments(new ArrayList<>(List.of(new CreatePartitionsRequestData.CreatePartitionsAssignment()
                    .setBrokerIds(List.of(1))))));
            CreatePartitionsRequest m = roundTrip(k, (short) v, CreatePartitionsRequest::read,
                CreatePartitionsRequestData::new);
            assertEquals(null, m.topics.get(0).assignments);
            assertEquals(5, m.topics.get(0).count);
            assertArrayEquals(new int[] {1}, m.topics.get(1).assignments.get(0));
        }), each(ApiKey.CREATE_PARTITIONS, "response", v -> () -> {
            CreatePartitionsResponseData k = new CreatePartitionsResponseData().setThrottleTimeMs(0);
            k.results().add(new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName("a")
                .setErrorCode((short) 37).setErrorMessage("Topic currently has 3 partitions"));
            k.results().add(new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName("b")
                .setErrorCode((short) 0).setErrorMessage(null));
            CreatePartitionsResponse m = roundTrip(k, (short) v, CreatePartitionsResponse::read,
                CreatePartitionsResponseData::new);
            assertEquals(37, m.results.get(0).errorCode);
        }));
    }

    @TestFactory
    Stream<DynamicTest> alterConfigs() {
        return Stream.concat(each(ApiKey.ALTER_CONFIGS, "request", v -> () -> {
            AlterConfigsRequestData k = new AlterConfigsRequestData().setValidateOnly(false);
            AlterConfigsRequestData.AlterConfigsResource r = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType((byte) 2).setResourceName("t");
            r.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("9"));
            r.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("x").setValue(null));
            k.resources().add(r);
            AlterConfigsRequest m = roundTrip(k, (short) v, AlterConfigsRequest::readAlter,
                AlterConfigsRequestData::new);
            assertEquals("9", m.resources.get(0).configs.get(0).value);
        }), each(ApiKey.ALTER_CONFIGS, "response", v -> () -> {
            AlterConfigsResponseData k = new AlterConfigsResponseData().setThrottleTimeMs(0);
            k.responses().add(new AlterConfigsResponseData.AlterConfigsResourceResponse().setErrorCode((short) 40)
                .setErrorMessage("bad").setResourceType((byte) 2).setResourceName("t"));
            AlterConfigsResponse m = roundTrip(k, (short) v, AlterConfigsResponse::readAlter,
                AlterConfigsResponseData::new);
            assertEquals("bad", m.responses.get(0).errorMessage);
        }));
    }

    @TestFactory
    Stream<DynamicTest> incrementalAlterConfigs() {
        return Stream.concat(each(ApiKey.INCREMENTAL_ALTER_CONFIGS, "request", v -> () -> {
            IncrementalAlterConfigsRequestData k = new IncrementalAlterConfigsRequestData().setValidateOnly(true);
            IncrementalAlterConfigsRequestData.AlterConfigsResource r = new IncrementalAlterConfigsRequestData
                .AlterConfigsResource().setResourceType((byte) 2).setResourceName("t");
            r.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                .setConfigOperation((byte) 0).setValue("9"));
            r.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("segment.ms")
                .setConfigOperation((byte) 1).setValue(null));
            k.resources().add(r);
            AlterConfigsRequest m = roundTrip(k, (short) v, AlterConfigsRequest::readIncremental,
                IncrementalAlterConfigsRequestData::new);
            assertEquals(AlterConfigsRequest.DELETE, m.resources.get(0).configs.get(1).operation);
            assertEquals(true, m.validateOnly);
        }), each(ApiKey.INCREMENTAL_ALTER_CONFIGS, "response", v -> () -> {
            IncrementalAlterConfigsResponseData k = new IncrementalAlterConfigsResponseData().setThrottleTimeMs(0);
            k.responses().add(new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                .setErrorCode((short) 0).setErrorMessage(null).setResourceType((byte) 2).setResourceName("t"));
            AlterConfigsResponse m = roundTrip(k, (short) v, AlterConfigsResponse::readIncremental,
                IncrementalAlterConfigsResponseData::new);
            assertEquals("t", m.responses.get(0).resourceName);
        }));
    }

    @TestFactory
    Stream<DynamicTest> describeCluster() {
        return Stream.concat(each(ApiKey.DESCRIBE_CLUSTER, "request", v -> () -> {
            DescribeClusterRequestData k = new DescribeClusterRequestData().setIncludeClusterAuthorizedOperations(true);
            if (v >= 1) {
                k.setEndpointType((byte) 1);
            }
            if (v >= 2) {
                k.setIncludeFencedBrokers(true);
            }
            DescribeClusterRequest m = roundTrip(k, (short) v, DescribeClusterRequest::read,
                DescribeClusterRequestData::new);
            assertEquals(true, m.includeClusterAuthorizedOperations);
        }), each(ApiKey.DESCRIBE_CLUSTER, "response", v -> () -> {
            DescribeClusterResponseData k = new DescribeClusterResponseData().setThrottleTimeMs(0)
                .setErrorCode((short) 0).setErrorMessage(null).setClusterId("c-1").setControllerId(1)
                .setClusterAuthorizedOperations(Integer.MIN_VALUE);
            if (v >= 1) {
                k.setEndpointType((byte) 1);
            }
            DescribeClusterResponseData.DescribeClusterBroker b = new DescribeClusterResponseData
                .DescribeClusterBroker().setBrokerId(1).setHost("127.0.0.1").setPort(9092).setRack(null);
            k.brokers().add(b);
            DescribeClusterResponse m = roundTrip(k, (short) v, DescribeClusterResponse::read,
                DescribeClusterResponseData::new);
            assertEquals(9092, m.brokers.get(0).port);
            assertEquals("c-1", m.clusterId);
        }));
    }

    @TestFactory
    Stream<DynamicTest> describeProducers() {
        return Stream.concat(each(ApiKey.DESCRIBE_PRODUCERS, "request", v -> () -> {
            DescribeProducersRequestData k = new DescribeProducersRequestData();
            k.topics().add(new DescribeProducersRequestData.TopicRequest().setName("t")
                .setPartitionIndexes(List.of(0, 2)));
            DescribeProducersRequest m = roundTrip(k, (short) v, DescribeProducersRequest::read,
                DescribeProducersRequestData::new);
            assertArrayEquals(new int[] {0, 2}, m.topics.get(0).partitionIndexes);
        }), each(ApiKey.DESCRIBE_PRODUCERS, "response", v -> () -> {
            DescribeProducersResponseData k = new DescribeProducersResponseData().setThrottleTimeMs(0);
            DescribeProducersResponseData.TopicResponse t = new DescribeProducersResponseData.TopicResponse()
                .setName("t");
            DescribeProducersResponseData.PartitionResponse p = new DescribeProducersResponseData.PartitionResponse()
                .setPartitionIndex(0).setErrorCode((short) 0).setErrorMessage(null);
            p.activeProducers().add(new DescribeProducersResponseData.ProducerState().setProducerId(42L)
                .setProducerEpoch(3).setLastSequence(9).setLastTimestamp(1234L).setCoordinatorEpoch(-1)
                .setCurrentTxnStartOffset(-1L));
            t.partitions().add(p);
            t.partitions().add(new DescribeProducersResponseData.PartitionResponse().setPartitionIndex(7)
                .setErrorCode((short) 3).setErrorMessage("no such partition"));
            k.topics().add(t);
            DescribeProducersResponse m = roundTrip(k, (short) v, DescribeProducersResponse::read,
                DescribeProducersResponseData::new);
            assertEquals(42L, m.topics.get(0).partitions.get(0).activeProducers.get(0).producerId);
            assertEquals(9, m.topics.get(0).partitions.get(0).activeProducers.get(0).lastSequence);
        }));
    }

    @TestFactory
    Stream<DynamicTest> deleteRecords() {
        return Stream.concat(each(ApiKey.DELETE_RECORDS, "request", v -> () -> {
            DeleteRecordsRequestData k = new DeleteRecordsRequestData().setTimeoutMs(12_345);
            DeleteRecordsRequestData.DeleteRecordsTopic t = new DeleteRecordsRequestData.DeleteRecordsTopic()
                .setName("orders");
            t.partitions().add(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0)
                .setOffset(42L));
            t.partitions().add(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(3)
                .setOffset(-1L));
            k.topics().add(t);
            k.topics().add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName("empty"));
            DeleteRecordsRequest m = roundTrip(k, (short) v, DeleteRecordsRequest::read,
                DeleteRecordsRequestData::new);
            assertEquals(12_345, m.timeoutMs);
            assertEquals("orders", m.topics.get(0).name);
            assertEquals(42L, m.topics.get(0).partitions.get(0).offset);
            assertEquals(3, m.topics.get(0).partitions.get(1).partitionIndex);
            assertEquals(DeleteRecordsRequest.HIGH_WATERMARK, m.topics.get(0).partitions.get(1).offset);
            assertEquals(0, m.topics.get(1).partitions.size());
        }), each(ApiKey.DELETE_RECORDS, "response", v -> () -> {
            DeleteRecordsResponseData k = new DeleteRecordsResponseData().setThrottleTimeMs(0);
            DeleteRecordsResponseData.DeleteRecordsTopicResult t = new DeleteRecordsResponseData
                .DeleteRecordsTopicResult().setName("orders");
            t.partitions().add(new DeleteRecordsResponseData.DeleteRecordsPartitionResult().setPartitionIndex(0)
                .setLowWatermark(42L).setErrorCode((short) 0));
            t.partitions().add(new DeleteRecordsResponseData.DeleteRecordsPartitionResult().setPartitionIndex(1)
                .setLowWatermark(-1L).setErrorCode((short) 1));
            k.topics().add(t);
            DeleteRecordsResponse m = roundTrip(k, (short) v, DeleteRecordsResponse::read,
                DeleteRecordsResponseData::new);
            assertEquals(42L, m.topics.get(0).partitions.get(0).lowWatermark);
            assertEquals(1, m.topics.get(0).partitions.get(1).errorCode);
        }));
    }

    /**
     * DescribeLogDirs v1-v4 against kafka-clients 4.x (4.0 dropped v0, KIP-896; Kafka39OracleTest checks v0 against
     * 3.9): a null topic list (every partition) and a filter; a response with sizes, a top-level error (v3+) and the
     * directory's total and usable bytes (v4+).
     */
    @TestFactory
    Stream<DynamicTest> describeLogDirs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (short v = 1; v <= ApiKey.DESCRIBE_LOG_DIRS.maxVersion; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("DESCRIBE_LOG_DIRS request v" + v, () -> {
                DescribeLogDirsRequestData all = new DescribeLogDirsRequestData().setTopics(null);
                DescribeLogDirsRequest m = roundTrip(all, version, DescribeLogDirsRequest::read,
                    DescribeLogDirsRequestData::new);
                assertEquals(null, m.topics);
                DescribeLogDirsRequestData k = new DescribeLogDirsRequestData();
                k.topics().add(new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic("orders")
                    .setPartitions(List.of(0, 2)));
                k.topics().add(new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic("none")
                    .setPartitions(List.of()));
                m = roundTrip(k, version, DescribeLogDirsRequest::read, DescribeLogDirsRequestData::new);
                assertEquals("orders", m.topics.get(0).topic);
                assertArrayEquals(new int[] {0, 2}, m.topics.get(0).partitions);
                assertEquals(0, m.topics.get(1).partitions.length);
            }));
            tests.add(DynamicTest.dynamicTest("DESCRIBE_LOG_DIRS response v" + v, () -> {
                DescribeLogDirsResponse m = roundTrip(logDirsResponse(version), version, DescribeLogDirsResponse::read,
                    DescribeLogDirsResponseData::new);
                DescribeLogDirsResponse.Result d = m.results.get(0);
                assertEquals("/data/idemlog", d.logDir);
                assertEquals(4096L, d.topics.get(0).partitions.get(1).partitionSize);
                assertEquals(true, d.topics.get(0).partitions.get(1).isFutureKey);
                assertEquals(version >= 4 ? 1L << 40 : -1L, d.totalBytes);
                assertEquals(version >= 4 ? 1L << 30 : -1L, d.usableBytes);
                assertEquals(version >= 3 ? 42 : 0, m.errorCode);
            }));
        }
        return tests.stream();
    }

    static DescribeLogDirsResponseData logDirsResponse(short version) {
        DescribeLogDirsResponseData k = new DescribeLogDirsResponseData().setThrottleTimeMs(0);
        if (version >= 3) {
            k.setErrorCode((short) 42);
        }
        DescribeLogDirsResponseData.DescribeLogDirsResult d = new DescribeLogDirsResponseData.DescribeLogDirsResult()
            .setErrorCode((short) 0).setLogDir("/data/idemlog");
        if (version >= 4) {
            d.setTotalBytes(1L << 40).setUsableBytes(1L << 30);
        }
        DescribeLogDirsResponseData.DescribeLogDirsTopic t = new DescribeLogDirsResponseData.DescribeLogDirsTopic()
            .setName("orders");
        t.partitions().add(new DescribeLogDirsResponseData.DescribeLogDirsPartition().setPartitionIndex(0)
            .setPartitionSize(0L).setOffsetLag(0L).setIsFutureKey(false));
        t.partitions().add(new DescribeLogDirsResponseData.DescribeLogDirsPartition().setPartitionIndex(1)
            .setPartitionSize(4096L).setOffsetLag(7L).setIsFutureKey(true));
        d.topics().add(t);
        k.results().add(d);
        k.results().add(new DescribeLogDirsResponseData.DescribeLogDirsResult().setErrorCode((short) 57)
            .setLogDir("/offline"));
        return k;
    }
}
