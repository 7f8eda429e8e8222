package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetForLeaderEpoch request v0-v4 (api key 23, KIP-101/KIP-320; flexible from v4): per topic and partition the
 * leader epoch whose end offset is asked for; v2+ the asker's {@code current_leader_epoch} (fencing, -1 = no check);
 * v3+ the {@code replica_id} (-1 a consumer, -2 a "debug" client, which is also the value a v0-v2 request implies).
 */
public final class OffsetForLeaderEpochRequest implements Message {
    /** replica_id of a consumer. */
    public static final int CONSUMER_REPLICA_ID = -1;
    /** replica_id of a debug client, and the value of a request below v3 (which has no replica_id field). */
    public static final int DEBUG_REPLICA_ID = -2;

    /** One partition and the epoch looked up. */
    public static final class Partition {
        public int partition;
        /** v2+; -1 = no check. */
        public int currentLeaderEpoch = -1;
        public int leaderEpoch;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partition, int currentLeaderEpoch, int leaderEpoch) {
            this.partition = partition;
            this.currentLeaderEpoch = currentLeaderEpoch;
            this.leaderEpoch = leaderEpoch;
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

    /** v3+. */
    public int replicaId = DEBUG_REPLICA_ID;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.OFFSET_FOR_LEADER_EPOCH;
    }

    public static OffsetForLeaderEpochRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        OffsetForLeaderEpochRequest m = new OffsetForLeaderEpochRequest();
        if (version >= 3) {
            m.replicaId = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        int partitionSize = (version >= 2 ? 12 : 8) + (flex ? 1 : 0);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic(r.readString(flex));
            int np = r.readNonNullArrayLength(flex, partitionSize);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partition = r.readInt32();
                if (version >= 2) {
                    p.currentLeaderEpoch = r.readInt32();
                }
                p.leaderEpoch = r.readInt32();
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
        if (version >= 3) {
            w.writeInt32(replicaId);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.topic, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partition);
                if (version >= 2) {
                    w.writeInt32(p.currentLeaderEpoch);
                }
                w.writeInt32(p.leaderEpoch);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
