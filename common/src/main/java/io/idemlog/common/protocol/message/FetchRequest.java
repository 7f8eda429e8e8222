package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Fetch request v4-v12 (v12 flexible). v5 adds log_start_offset, v7 fetch sessions and forgotten topics, v9
 * current_leader_epoch, v11 rack_id, v12 last_fetched_epoch.
 */
public final class FetchRequest implements Message {
    /** One partition to read from. */
    public static final class Partition {
        public int partition;
        public int currentLeaderEpoch = -1;
        public long fetchOffset;
        public int lastFetchedEpoch = -1;
        public long logStartOffset = -1L;
        public int partitionMaxBytes;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partition, long fetchOffset, int partitionMaxBytes) {
            this.partition = partition;
            this.fetchOffset = fetchOffset;
            this.partitionMaxBytes = partitionMaxBytes;
        }
    }

    /** One topic's partitions. */
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

    /** Partitions an incremental fetch session no longer wants (v7+). */
    public static final class ForgottenTopic {
        public String topic;
        public int[] partitions = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;
    }

    public int replicaId = -1;
    public int maxWaitMs;
    public int minBytes;
    public int maxBytes = Integer.MAX_VALUE;
    public byte isolationLevel;
    public int sessionId;
    public int sessionEpoch = -1;
    public final List<Topic> topics = new ArrayList<>();
    public final List<ForgottenTopic> forgottenTopics = new ArrayList<>();
    public String rackId = "";
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH;
    }

    public static FetchRequest read(WireReader r, short version) {
        boolean flex = version >= 12;
        FetchRequest m = new FetchRequest();
        m.replicaId = r.readInt32();
        m.maxWaitMs = r.readInt32();
        m.minBytes = r.readInt32();
        m.maxBytes = r.readInt32();
        m.isolationLevel = r.readInt8();
        if (version >= 7) {
            m.sessionId = r.readInt32();
            m.sessionEpoch = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.topic = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 16);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partition = r.readInt32();
                if (version >= 9) {
                    p.currentLeaderEpoch = r.readInt32();
                }
                p.fetchOffset = r.readInt64();
                if (version >= 12) {
                    p.lastFetchedEpoch = r.readInt32();
                }
                if (version >= 5) {
                    p.logStartOffset = r.readInt64();
                }
                p.partitionMaxBytes = r.readInt32();
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        if (version >= 7) {
            int nf = r.readNonNullArrayLength(flex, 3);
            for (int i = 0; i < nf; i++) {
                ForgottenTopic f = new ForgottenTopic();
                f.topic = r.readString(flex);
                f.partitions = Int32Arrays.read(r, flex);
                f.taggedFields = r.readTaggedFieldsIf(flex);
                m.forgottenTopics.add(f);
            }
        }
        if (version >= 11) {
            m.rackId = r.readString(flex);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 12;
        w.writeInt32(replicaId).writeInt32(maxWaitMs).writeInt32(minBytes).writeInt32(maxBytes);
        w.writeInt8(isolationLevel);
        if (version >= 7) {
            w.writeInt32(sessionId).writeInt32(sessionEpoch);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.topic, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partition);
                if (version >= 9) {
                    w.writeInt32(p.currentLeaderEpoch);
                }
                w.writeInt64(p.fetchOffset);
                if (version >= 12) {
                    w.writeInt32(p.lastFetchedEpoch);
                }
                if (version >= 5) {
                    w.writeInt64(p.logStartOffset);
                }
                w.writeInt32(p.partitionMaxBytes);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        if (version >= 7) {
            w.writeArrayLength(forgottenTopics.size(), flex);
            for (ForgottenTopic f : forgottenTopics) {
                w.writeString(f.topic, flex);
                Int32Arrays.write(w, f.partitions, flex);
                w.writeTaggedFieldsIf(flex, f.taggedFields);
            }
        }
        if (version >= 11) {
            w.writeString(rackId, flex);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
