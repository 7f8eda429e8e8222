package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

import static io.idemlog.common.protocol.message.CodecOracle.checkOurs;
import static io.idemlog.common.protocol.message.CodecOracle.roundTrip;
import static io.idemlog.common.protocol.message.CodecOracle.versions;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * OffsetForLeaderEpoch (api key 23) against kafka-clients 4.x's generated classes, v2-v4 (4.0 removed v0-v1, which
 * Kafka39OracleTest checks against 3.9; librdkafka sends v2, kafka-clients 4.x v4). Both directions: kafka-clients' bytes
 * decode with idemlog's codec and re-encode identically, and what idemlog builds itself is what kafka-clients
 * writes for the same fields.
 */
class LeaderEpochCodecsOracleTest {
    private static OffsetForLeaderEpochRequestData kafkaRequest(int replicaId) {
        OffsetForLeaderEpochRequestData k = new OffsetForLeaderEpochRequestData().setReplicaId(replicaId);
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t = new OffsetForLeaderEpochRequestData
            .OffsetForLeaderTopic().setTopic("orders");
        t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
            .setCurrentLeaderEpoch(7).setLeaderEpoch(5));
        t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(3)
            .setCurrentLeaderEpoch(-1).setLeaderEpoch(0));
        k.topics().add(t);
        k.topics().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("empty"));
        return k;
    }

    @TestFactory
    Stream<DynamicTest> request() {
        return versions("OFFSET_FOR_LEADER_EPOCH", 2, ApiKey.OFFSET_FOR_LEADER_EPOCH.maxVersion, "request", v -> {
            for (int replicaId : v >= 3 ? new int[] {-1, -2} : new int[] {-2}) {
                OffsetForLeaderEpochRequest m = roundTrip(kafkaRequest(replicaId), (short) v,
                    OffsetForLeaderEpochRequest::read, OffsetForLeaderEpochRequestData::new);
                assertEquals(v >= 3 ? replicaId : OffsetForLeaderEpochRequest.DEBUG_REPLICA_ID, m.replicaId);
                assertEquals(2, m.topics.size());
                assertEquals("orders", m.topics.get(0).topic);
                OffsetForLeaderEpochRequest.Partition p = m.topics.get(0).partitions.get(0);
                assertEquals(0, p.partition);
                assertEquals(7, p.currentLeaderEpoch);
                assertEquals(5, p.leaderEpoch);
                assertEquals(3, m.topics.get(0).partitions.get(1).partition);
                assertEquals(-1, m.topics.get(0).partitions.get(1).currentLeaderEpoch);
                assertEquals(0, m.topics.get(1).partitions.size());
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> response() {
        return versions("OFFSET_FOR_LEADER_EPOCH", 2, ApiKey.OFFSET_FOR_LEADER_EPOCH.maxVersion, "response", v -> {
            OffsetForLeaderEpochResponseData k = new OffsetForLeaderEpochResponseData()
                .setThrottleTimeMs(17);
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult t = new OffsetForLeaderEpochResponseData
                .OffsetForLeaderTopicResult().setTopic("orders");
            t.partitions().add(new OffsetForLeaderEpochResponseData.EpochEndOffset().setPartition(0)
                .setErrorCode((short) 0).setLeaderEpoch(4).setEndOffset(1234L));
            t.partitions().add(new OffsetForLeaderEpochResponseData.EpochEndOffset().setPartition(1)
                .setErrorCode((short) 74).setLeaderEpoch(-1).setEndOffset(-1L));
            k.topics().add(t);
            OffsetForLeaderEpochResponse m = roundTrip(k, (short) v, OffsetForLeaderEpochResponse::read,
                OffsetForLeaderEpochResponseData::new);
            assertEquals(17, m.throttleTimeMs);
            OffsetForLeaderEpochResponse.Partition p = m.topics.get(0).partitions.get(0);
            assertEquals(4, p.leaderEpoch);
            assertEquals(1234L, p.endOffset);
            assertEquals(74, m.topics.get(0).partitions.get(1).errorCode);

            // what the handler builds, as kafka-clients would write it
            OffsetForLeaderEpochResponse ours = new OffsetForLeaderEpochResponse();
            OffsetForLeaderEpochResponse.Topic ot = new OffsetForLeaderEpochResponse.Topic("orders");
            ot.partitions.add(new OffsetForLeaderEpochResponse.Partition(0, (short) 0, 4, 1234L));
            ot.partitions.add(new OffsetForLeaderEpochResponse.Partition(1, (short) 74, -1, -1L));
            ours.topics.add(ot);
            ours.throttleTimeMs = 17;
            checkOurs(ours, (short) v, k, OffsetForLeaderEpochResponseData::new);
        });
    }

    @Test
    void truncatedRequestIsRefusedNotMisread() {
        byte[] whole = CodecOracle.kafkaBytes(kafkaRequest(-1), (short) 4);
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] part = java.util.Arrays.copyOf(whole, cut);
            org.junit.jupiter.api.Assertions.assertThrows(io.idemlog.common.protocol.ProtocolException.class,
                () -> CodecOracle.decodeWhole(part, (short) 4, OffsetForLeaderEpochRequest::read),
                "a request cut at byte " + cut);
        }
    }

    /**
     * Fetch v12's diverging_epoch (partition tagged field 0, what the server's divergence check answers) as raw
     * bytes epoch int32, end_offset int64, an empty tag section: kafka-clients writes and reads exactly that.
     */
    @Test
    void fetchDivergingEpochIsTaggedFieldZeroAsKafkaWritesIt() {
        for (short v = 12; v <= ApiKey.FETCH.maxVersion; v++) {
            org.apache.kafka.common.message.FetchResponseData k = new org.apache.kafka.common.message
                .FetchResponseData().setErrorCode((short) 0).setSessionId(0);
            org.apache.kafka.common.message.FetchResponseData.PartitionData p = new org.apache.kafka.common
                .message.FetchResponseData.PartitionData().setPartitionIndex(0).setHighWatermark(30L)
                .setLastStableOffset(30L).setLogStartOffset(0L).setAbortedTransactions(null)
                .setRecords(org.apache.kafka.common.record.MemoryRecords.EMPTY);
            p.divergingEpoch().setEpoch(3).setEndOffset(17L);
            k.responses().add(new org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse()
                .setTopic("orders").setPartitions(java.util.List.of(p)));
            FetchResponse m = roundTrip(k, v, FetchResponse::read,
                org.apache.kafka.common.message.FetchResponseData::new);
            byte[] field = m.topics.get(0).partitions.get(0).taggedFields.get(0);
            java.nio.ByteBuffer expected = java.nio.ByteBuffer.allocate(13).putInt(3).putLong(17L).put((byte) 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected.array(), field, "v" + v);
        }
    }
}
