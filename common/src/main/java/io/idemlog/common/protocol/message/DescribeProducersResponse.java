package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DescribeProducers response v0 (flexible): per partition the producers whose state the broker keeps. */
public final class DescribeProducersResponse implements Message {
    /** One producer's state. */
    public static final class Producer {
        public long producerId;
        public int producerEpoch;
        public int lastSequence = -1;
        public long lastTimestamp = -1L;
        public int coordinatorEpoch = -1;
        public long currentTxnStartOffset = -1L;
        public RawTaggedFields taggedFields;
    }

    /** One partition. */
    public static final class Partition {
        public int partitionIndex;
        public short errorCode;
        public String errorMessage;
        public final List<Producer> activeProducers = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    /** One topic. */
    public static final class Topic {
        public String name;
        public final List<Partition> partitions = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_PRODUCERS;
    }

    public static DescribeProducersResponse read(WireReader r, short version) {
        DescribeProducersResponse m = new DescribeProducersResponse();
        m.throttleTimeMs = r.readInt32();
        int nt = r.readNonNullArrayLength(true, 3);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(true);
            int np = r.readNonNullArrayLength(true, 9);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.errorCode = r.readInt16();
                p.errorMessage = r.readNullableString(true);
                int n = r.readNonNullArrayLength(true, 33);
                for (int k = 0; k < n; k++) {
                    Producer pr = new Producer();
                    pr.producerId = r.readInt64();
                    pr.producerEpoch = r.readInt32();
                    pr.lastSequence = r.readInt32();
                    pr.lastTimestamp = r.readInt64();
                    pr.coordinatorEpoch = r.readInt32();
                    pr.currentTxnStartOffset = r.readInt64();
                    pr.taggedFields = r.readTaggedFields();
                    p.activeProducers.add(pr);
                }
                p.taggedFields = r.readTaggedFields();
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFields();
            m.topics.add(t);
        }
        m.taggedFields = r.readTaggedFields();
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(topics.size(), true);
        for (Topic t : topics) {
            w.writeString(t.name, true);
            w.writeArrayLength(t.partitions.size(), true);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt16(p.errorCode).writeNullableString(p.errorMessage, true);
                w.writeArrayLength(p.activeProducers.size(), true);
                for (Producer pr : p.activeProducers) {
                    w.writeInt64(pr.producerId).writeInt32(pr.producerEpoch).writeInt32(pr.lastSequence)
                        .writeInt64(pr.lastTimestamp).writeInt32(pr.coordinatorEpoch)
                        .writeInt64(pr.currentTxnStartOffset);
                    w.writeTaggedFields(pr.taggedFields);
                }
                w.writeTaggedFields(p.taggedFields);
            }
            w.writeTaggedFields(t.taggedFields);
        }
        w.writeTaggedFields(taggedFields);
    }
}
