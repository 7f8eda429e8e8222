package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * ListOffsets response v1-v10 (flexible from v6; v7-v10 add no fields, only the request's timestamp specs and
 * timeout): per partition an error, a timestamp and an offset (-1/-1 when none matches).
 */
public final class ListOffsetsResponse implements Message {
    /** One partition's answer. */
    public static final class Partition {
        public int partitionIndex;
        public short errorCode;
        public long timestamp = -1L;
        public long offset = -1L;
        public int leaderEpoch = -1;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, short errorCode, long timestamp, long offset) {
            this.partitionIndex = partitionIndex;
            this.errorCode = errorCode;
            this.timestamp = timestamp;
            this.offset = offset;
        }
    }

    /** One topic's partitions. */
    public static final class Topic {
        public String name;
        public final List<Partition> partitions = new ArrayList<>();
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String name) {
            this.name = name;
        }
    }

    public int throttleTimeMs;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_OFFSETS;
    }

    public static ListOffsetsResponse read(WireReader r, short version) {
        boolean flex = version >= 6;
        ListOffsetsResponse m = new ListOffsetsResponse();
        if (version >= 2) {
            m.throttleTimeMs = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 22);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.errorCode = r.readInt16();
                p.timestamp = r.readInt64();
                p.offset = r.readInt64();
                if (version >= 4) {
                    p.leaderEpoch = r.readInt32();
                }
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
        boolean flex = version >= 6;
        if (version >= 2) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt16(p.errorCode).writeInt64(p.timestamp).writeInt64(p.offset);
                if (version >= 4) {
                    w.writeInt32(p.leaderEpoch);
                }
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
