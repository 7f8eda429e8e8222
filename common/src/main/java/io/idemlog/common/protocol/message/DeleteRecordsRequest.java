package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DeleteRecords request v0-v2 (flexible from v2): per topic and partition the offset below which records are to be
 * deleted (-1: the high watermark), and a timeout.
 */
public final class DeleteRecordsRequest implements Message {
    /** The high watermark, as the offset to delete up to. */
    public static final long HIGH_WATERMARK = -1L;

    /** One partition and the new log start offset asked for. */
    public static final class Partition {
        public int partitionIndex;
        public long offset;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, long offset) {
            this.partitionIndex = partitionIndex;
            this.offset = offset;
        }
    }

    /** One topic. */
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

    public final List<Topic> topics = new ArrayList<>();
    public int timeoutMs = 30_000;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_RECORDS;
    }

    public static DeleteRecordsRequest read(WireReader r, short version) {
        boolean flex = version >= 2;
        DeleteRecordsRequest m = new DeleteRecordsRequest();
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic(r.readString(flex));
            int np = r.readNonNullArrayLength(flex, flex ? 13 : 12);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition(r.readInt32(), r.readInt64());
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.timeoutMs = r.readInt32();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt64(p.offset);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeInt32(timeoutMs);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
