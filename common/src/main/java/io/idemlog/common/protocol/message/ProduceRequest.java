package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.Records;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Produce request v3-v9: {transactional_id, acks, timeout_ms, topic_data[{name, partition_data[{index, records}]}]}.
 * Records are decoded as views of the request buffer (no copy) and encoded as holes (no copy), see
 * {@link WireWriter#writeRecords}.
 */
public final class ProduceRequest implements Message {
    /** One partition's records. */
    public static final class PartitionData {
        public int index;
        public Records records;
        public RawTaggedFields taggedFields;

        public PartitionData() {
        }

        public PartitionData(int index, Records records) {
            this.index = index;
            this.records = records;
        }
    }

    /** One topic's partitions. */
    public static final class TopicData {
        public String name;
        public final List<PartitionData> partitions = new ArrayList<>(4);
        public RawTaggedFields taggedFields;

        public TopicData() {
        }

        public TopicData(String name) {
            this.name = name;
        }
    }

    public String transactionalId;
    public short acks;
    public int timeoutMs;
    public final List<TopicData> topics = new ArrayList<>(2);
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.PRODUCE;
    }

    /** Total number of partitions in the request. */
    public int partitionCount() {
        int n = 0;
        for (TopicData t : topics) {
            n += t.partitions.size();
        }
        return n;
    }

    /**
     * Reads only up to {@code acks} and returns it: the transport must know whether a request expects an answer
     * before it decodes the rest (acks=0 gets none, even if the body turns out to be malformed).
     */
    public static short peekAcks(WireReader r, short version) {
        r.readNullableString(version >= 9);
        return r.readInt16();
    }

    public static ProduceRequest read(WireReader r, short version) {
        boolean flex = version >= 9;
        ProduceRequest m = new ProduceRequest();
        m.transactionalId = r.readNullableString(flex);
        m.acks = r.readInt16();
        m.timeoutMs = r.readInt32();
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            TopicData t = new TopicData();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 5);
            for (int j = 0; j < np; j++) {
                PartitionData p = new PartitionData();
                p.index = r.readInt32();
                p.records = r.readRecords(flex);
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 9;
        w.writeNullableString(transactionalId, flex);
        w.writeInt16(acks).writeInt32(timeoutMs);
        w.writeArrayLength(topics.size(), flex);
        for (TopicData t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (PartitionData p : t.partitions) {
                w.writeInt32(p.index);
                w.writeRecords(p.records, flex);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
