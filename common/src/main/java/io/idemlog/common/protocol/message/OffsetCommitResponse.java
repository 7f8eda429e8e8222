package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** OffsetCommit response v0-v9 (flexible from v8): throttle time from v3, an error code per partition. */
public final class OffsetCommitResponse implements Message {
    /** One partition's result. */
    public static final class Partition {
        public int partitionIndex;
        public short errorCode;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, short errorCode) {
            this.partitionIndex = partitionIndex;
            this.errorCode = errorCode;
        }
    }

    /** One topic's partitions. */
    public static final class Topic {
        public String name = "";
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
        return GroupApis.OFFSET_COMMIT.apiKey();
    }

    /**
     * The answer to {@code request} that gives every partition it names the same error (e.g. a group-level
     * refusal: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, NOT_COORDINATOR...).
     */
    public static OffsetCommitResponse allPartitions(OffsetCommitRequest request, short errorCode) {
        OffsetCommitResponse m = new OffsetCommitResponse();
        for (OffsetCommitRequest.Topic t : request.topics) {
            Topic rt = new Topic(t.name);
            for (OffsetCommitRequest.Partition p : t.partitions) {
                rt.partitions.add(new Partition(p.partitionIndex, errorCode));
            }
            m.topics.add(rt);
        }
        return m;
    }

    public static OffsetCommitResponse read(WireReader r, short version) {
        boolean flex = version >= 8;
        OffsetCommitResponse m = new OffsetCommitResponse();
        if (version >= 3) {
            m.throttleTimeMs = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 6);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
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
        boolean flex = version >= 8;
        if (version >= 3) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt16(p.errorCode);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
