package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DeleteRecords response v0-v2 (flexible from v2): per partition the low watermark (log start) or an error. */
public final class DeleteRecordsResponse implements Message {
    /** One partition's result. */
    public static final class Partition {
        public int partitionIndex;
        public long lowWatermark = -1L;
        public short errorCode;
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
        return ApiKey.DELETE_RECORDS;
    }

    public static DeleteRecordsResponse read(WireReader r, short version) {
        boolean flex = version >= 2;
        DeleteRecordsResponse m = new DeleteRecordsResponse();
        m.throttleTimeMs = r.readInt32();
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, flex ? 15 : 14);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.lowWatermark = r.readInt64();
                p.errorCode = r.readInt16();
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
        boolean flex = version >= 2;
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt64(p.lowWatermark).writeInt16(p.errorCode);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
