package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetCommit request v0-v9 (flexible from v8). v0 has no generation or member (a "simple" commit); v1 adds them and
 * a per-partition commit timestamp (v1 only); v2-v4 a retention time (-1: the broker's); v6 the committed leader
 * epoch; v7 group.instance.id; v9 is v8 for the KIP-848 protocol, where the generation field carries the member
 * epoch. v10 (topic ids instead of names, KIP-848) is not implemented: kafka-clients 4.1 marks it unstable and does
 * not send it, and idemlog has no topic ids.
 */
public final class OffsetCommitRequest implements Message {
    /** One partition's committed position. */
    public static final class Partition {
        public int partitionIndex;
        public long committedOffset;
        /** v6+. */
        public int committedLeaderEpoch = -1;
        /** v1 only. */
        public long commitTimestamp = -1L;
        /** Client metadata (nullable). */
        public String committedMetadata;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, long committedOffset, int committedLeaderEpoch, String metadata) {
            this.partitionIndex = partitionIndex;
            this.committedOffset = committedOffset;
            this.committedLeaderEpoch = committedLeaderEpoch;
            this.committedMetadata = metadata;
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

    public String groupId = "";
    /** v1+: the generation (classic protocol) or member epoch (KIP-848); -1 for a commit outside any generation. */
    public int generationIdOrMemberEpoch = -1;
    /** v1+: "" for a commit outside any generation. */
    public String memberId = "";
    /** v7+. */
    public String groupInstanceId;
    /** v2-v4: -1 = the broker's offsets.retention.minutes. */
    public long retentionTimeMs = -1L;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.OFFSET_COMMIT.apiKey();
    }

    public static OffsetCommitRequest read(WireReader r, short version) {
        boolean flex = version >= 8;
        OffsetCommitRequest m = new OffsetCommitRequest();
        m.groupId = r.readString(flex);
        if (version >= 1) {
            m.generationIdOrMemberEpoch = r.readInt32();
            m.memberId = r.readString(flex);
        }
        if (version >= 7) {
            m.groupInstanceId = r.readNullableString(flex);
        }
        if (version >= 2 && version <= 4) {
            m.retentionTimeMs = r.readInt64();
        }
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 13);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.committedOffset = r.readInt64();
                if (version >= 6) {
                    p.committedLeaderEpoch = r.readInt32();
                }
                if (version == 1) {
                    p.commitTimestamp = r.readInt64();
                }
                p.committedMetadata = r.readNullableString(flex);
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
        w.writeString(groupId, flex);
        if (version >= 1) {
            w.writeInt32(generationIdOrMemberEpoch).writeString(memberId, flex);
        }
        if (version >= 7) {
            w.writeNullableString(groupInstanceId, flex);
        }
        if (version >= 2 && version <= 4) {
            w.writeInt64(retentionTimeMs);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt64(p.committedOffset);
                if (version >= 6) {
                    w.writeInt32(p.committedLeaderEpoch);
                }
                if (version == 1) {
                    w.writeInt64(p.commitTimestamp);
                }
                w.writeNullableString(p.committedMetadata, flex);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
