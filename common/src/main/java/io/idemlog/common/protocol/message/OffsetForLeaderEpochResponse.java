package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetForLeaderEpoch response v0-v4 (flexible from v4): per partition an error, v1+ the leader epoch answered
 * (the largest known epoch at or below the one asked for) and the offset where it ends; -1/-1 (UNDEFINED) when the
 * epoch is unknown or with an error. v2+ a throttle time.
 */
public final class OffsetForLeaderEpochResponse implements Message {
    /** Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_EPOCH_OFFSET = -1L;

    /** One partition's answer. */
    public static final class Partition {
        public short errorCode;
        public int partition;
        /** v1+. */
        public int leaderEpoch = UNDEFINED_EPOCH;
        public long endOffset = UNDEFINED_EPOCH_OFFSET;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partition, short errorCode, int leaderEpoch, long endOffset) {
            this.partition = partition;
            this.errorCode = errorCode;
            this.leaderEpoch = leaderEpoch;
            this.endOffset = endOffset;
        }
    }

    /** One topic. */
    public static final class Topic {
        public String topic;
        public final List<Partition> partitions = new ArrayList<>();
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String topic) {
            this.topic = topic;
        }
    }

    /** v2+. */
    public int throttleTimeMs;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.OFFSET_FOR_LEADER_EPOCH;
    }

    public static OffsetForLeaderEpochResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        OffsetForLeaderEpochResponse m = new OffsetForLeaderEpochResponse();
        if (version >= 2) {
            m.throttleTimeMs = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        int partitionSize = (version >= 1 ? 18 : 14) + (flex ? 1 : 0);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic(r.readString(flex));
            int np = r.readNonNullArrayLength(flex, partitionSize);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.errorCode = r.readInt16();
                p.partition = r.readInt32();
                if (version >= 1) {
                    p.leaderEpoch = r.readInt32();
                }
                p.endOffset = r.readInt64();
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
        boolean flex = version >= 4;
        if (version >= 2) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.topic, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt16(p.errorCode).writeInt32(p.partition);
                if (version >= 1) {
                    w.writeInt32(p.leaderEpoch);
                }
                w.writeInt64(p.endOffset);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
