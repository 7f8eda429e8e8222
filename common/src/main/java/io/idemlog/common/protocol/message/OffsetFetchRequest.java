package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetFetch request v0-v9 (flexible from v6). v0-v7 ask for one {@link #groupId}'s {@link #topics} (null = every
 * topic the group has offsets for, allowed from v2); v7 adds require_stable; v8+ ask for several {@link Group}s
 * (KIP-709), v9 with the KIP-848 member id and epoch. v10 (topic ids, KIP-848) is not implemented: kafka-clients 4.1
 * marks it unstable and does not send it. {@link #groups(short)} gives the groups of either shape.
 */
public final class OffsetFetchRequest implements Message {
    /** One topic and the partitions asked for. */
    public static final class Topic {
        public String name = "";
        public int[] partitionIndexes = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String name, int... partitionIndexes) {
            this.name = name;
            this.partitionIndexes = partitionIndexes;
        }
    }

    /** One group asked for (v8+; below v8 {@link #groups(short)} synthesises the single one). */
    public static final class Group {
        public String groupId = "";
        /** v9+. */
        public String memberId;
        /** v9+. */
        public int memberEpoch = -1;
        /** Null = all topics. */
        public List<Topic> topics;
        public RawTaggedFields taggedFields;

        public Group() {
        }

        public Group(String groupId, List<Topic> topics) {
            this.groupId = groupId;
            this.topics = topics;
        }
    }

    /** v0-v7. */
    public String groupId = "";
    /** v0-v7; null (from v2) = all topics. */
    public List<Topic> topics = new ArrayList<>();
    /** v8+. */
    public final List<Group> groups = new ArrayList<>();
    /** v7+. */
    public boolean requireStable;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.OFFSET_FETCH.apiKey();
    }

    /** The groups asked for: one made of {@link #groupId} and {@link #topics} below v8, {@link #groups} from v8. */
    public List<Group> groups(short version) {
        return version >= 8 ? groups : List.of(new Group(groupId, topics));
    }

    private static List<Topic> readTopics(WireReader r, boolean flex, boolean nullable) {
        int n = r.readArrayLength(flex, flex ? 3 : 6);
        if (n < 0) {
            if (!nullable) {
                throw new ProtocolException("null topics in an OffsetFetch version that cannot express it");
            }
            return null;
        }
        List<Topic> topics = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            t.partitionIndexes = Int32Arrays.read(r, flex);
            t.taggedFields = r.readTaggedFieldsIf(flex);
            topics.add(t);
        }
        return topics;
    }

    private static void writeTopics(WireWriter w, List<Topic> topics, boolean flex, boolean nullable) {
        if (topics == null) {
            if (!nullable) {
                throw new IllegalArgumentException("null topics (all) needs OffsetFetch v2+");
            }
            w.writeArrayLength(-1, flex);
            return;
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            Int32Arrays.write(w, t.partitionIndexes, flex);
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
    }

    public static OffsetFetchRequest read(WireReader r, short version) {
        boolean flex = version >= 6;
        OffsetFetchRequest m = new OffsetFetchRequest();
        if (version <= 7) {
            m.groupId = r.readString(flex);
            m.topics = readTopics(r, flex, version >= 2);
        } else {
            m.topics = null;
            int n = r.readNonNullArrayLength(flex, 3);
            for (int i = 0; i < n; i++) {
                Group g = new Group();
                g.groupId = r.readString(flex);
                if (version >= 9) {
                    g.memberId = r.readNullableString(flex);
                    g.memberEpoch = r.readInt32();
                }
                g.topics = readTopics(r, flex, true);
                g.taggedFields = r.readTaggedFieldsIf(flex);
                m.groups.add(g);
            }
        }
        if (version >= 7) {
            m.requireStable = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 6;
        if (version <= 7) {
            w.writeString(groupId, flex);
            writeTopics(w, topics, flex, version >= 2);
        } else {
            w.writeArrayLength(groups.size(), flex);
            for (Group g : groups) {
                w.writeString(g.groupId, flex);
                if (version >= 9) {
                    w.writeNullableString(g.memberId, flex).writeInt32(g.memberEpoch);
                }
                writeTopics(w, g.topics, flex, true);
                w.writeTaggedFieldsIf(flex, g.taggedFields);
            }
        }
        if (version >= 7) {
            w.writeBoolean(requireStable);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
