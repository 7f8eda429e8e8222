package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetFetch response v0-v9 (flexible from v6): v0-v7 one group's {@link #topics}, with a top-level error code
 * from v2 (v0-v1 can only report a group-level error per partition); committed leader epoch from v5; v8+ one
 * {@link Group} per group asked for. {@link #addGroup(short, Group)} fills whichever shape the version uses. A
 * partition without a committed offset answers offset -1, metadata "" (Kafka's convention), error 0.
 */
public final class OffsetFetchResponse implements Message {
    /** One partition's committed position. */
    public static final class Partition {
        public int partitionIndex;
        public long committedOffset = -1L;
        /** v5+. */
        public int committedLeaderEpoch = -1;
        public String metadata;
        public short errorCode;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, long committedOffset, int committedLeaderEpoch, String metadata,
                         short errorCode) {
            this.partitionIndex = partitionIndex;
            this.committedOffset = committedOffset;
            this.committedLeaderEpoch = committedLeaderEpoch;
            this.metadata = metadata;
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

    /** One group's answer (v8+). */
    public static final class Group {
        public String groupId = "";
        public final List<Topic> topics = new ArrayList<>();
        public short errorCode;
        public RawTaggedFields taggedFields;

        public Group() {
        }

        public Group(String groupId) {
            this.groupId = groupId;
        }
    }

    public int throttleTimeMs;
    /** v0-v7. */
    public final List<Topic> topics = new ArrayList<>();
    /** v2-v7. */
    public short errorCode;
    /** v8+. */
    public final List<Group> groups = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.OFFSET_FETCH.apiKey();
    }

    /**
     * Adds one group's answer: from v8 as a {@link Group}; below v8 its topics and error go to the top level (one
     * group per request there). Below v2 there is no top-level error code: the caller must put a group-level
     * error into each partition instead.
     */
    public OffsetFetchResponse addGroup(short version, Group group) {
        if (version >= 8) {
            groups.add(group);
        } else {
            topics.addAll(group.topics);
            errorCode = group.errorCode;
        }
        return this;
    }

    private static void readTopics(WireReader r, boolean flex, boolean epoch, List<Topic> into) {
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 15);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.committedOffset = r.readInt64();
                if (epoch) {
                    p.committedLeaderEpoch = r.readInt32();
                }
                p.metadata = r.readNullableString(flex);
                p.errorCode = r.readInt16();
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            into.add(t);
        }
    }

    private static void writeTopics(WireWriter w, List<Topic> topics, boolean flex, boolean epoch) {
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt64(p.committedOffset);
                if (epoch) {
                    w.writeInt32(p.committedLeaderEpoch);
                }
                w.writeNullableString(p.metadata, flex).writeInt16(p.errorCode);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
    }

    public static OffsetFetchResponse read(WireReader r, short version) {
        boolean flex = version >= 6;
        OffsetFetchResponse m = new OffsetFetchResponse();
        if (version >= 3) {
            m.throttleTimeMs = r.readInt32();
        }
        if (version <= 7) {
            readTopics(r, flex, version >= 5, m.topics);
            if (version >= 2) {
                m.errorCode = r.readInt16();
            }
        } else {
            int n = r.readNonNullArrayLength(flex, 5);
            for (int i = 0; i < n; i++) {
                Group g = new Group();
                g.groupId = r.readString(flex);
                readTopics(r, flex, true, g.topics);
                g.errorCode = r.readInt16();
                g.taggedFields = r.readTaggedFieldsIf(flex);
                m.groups.add(g);
            }
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 6;
        if (version >= 3) {
            w.writeInt32(throttleTimeMs);
        }
        if (version <= 7) {
            writeTopics(w, topics, flex, version >= 5);
            if (version >= 2) {
                w.writeInt16(errorCode);
            }
        } else {
            w.writeArrayLength(groups.size(), flex);
            for (Group g : groups) {
                w.writeString(g.groupId, flex);
                writeTopics(w, g.topics, flex, true);
                w.writeInt16(g.errorCode);
                w.writeTaggedFieldsIf(flex, g.taggedFields);
            }
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
