package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * ListOffsets request v1-v10 (flexible from v6). A partition's timestamp is either a time (first offset whose record
 * timestamp is at or after it) or one of the special values {@link #LATEST_TIMESTAMP}, {@link #EARLIEST_TIMESTAMP},
 * and, from the version that introduced each (a client sends it only to a broker that offers that version):
 * {@link #MAX_TIMESTAMP} (v7, KIP-734), {@link #EARLIEST_LOCAL_TIMESTAMP} (v8, KIP-405) and
 * {@link #LATEST_TIERED_TIMESTAMP} (v9, KIP-1005). v10 adds {@link #timeoutMs} (KIP-1075: how long a broker may wait
 * for tiered storage). The codec reads and writes up to {@link #MAX_VERSION}; which versions are advertised is
 * {@link ApiKey#LIST_OFFSETS}'s business.
 */
public final class ListOffsetsRequest implements Message {
    public static final long LATEST_TIMESTAMP = -1L;
    public static final long EARLIEST_TIMESTAMP = -2L;
    /** v7+: the offset of the record with the largest timestamp (and that timestamp). */
    public static final long MAX_TIMESTAMP = -3L;
    /** v8+: the first offset still in local storage (= the log start offset without tiered storage). */
    public static final long EARLIEST_LOCAL_TIMESTAMP = -4L;
    /** v9+: the last offset already in tiered storage. */
    public static final long LATEST_TIERED_TIMESTAMP = -5L;
    /** The newest version this codec implements. */
    public static final short MAX_VERSION = 10;

    /** One partition to look up. */
    public static final class Partition {
        public int partitionIndex;
        public int currentLeaderEpoch = -1;
        public long timestamp;
        public RawTaggedFields taggedFields;

        public Partition() {
        }

        public Partition(int partitionIndex, long timestamp) {
            this.partitionIndex = partitionIndex;
            this.timestamp = timestamp;
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

    public int replicaId = -1;
    public byte isolationLevel;
    public final List<Topic> topics = new ArrayList<>();
    /** v10+. */
    public int timeoutMs;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_OFFSETS;
    }

    public static ListOffsetsRequest read(WireReader r, short version) {
        boolean flex = version >= 6;
        ListOffsetsRequest m = new ListOffsetsRequest();
        m.replicaId = r.readInt32();
        if (version >= 2) {
            m.isolationLevel = r.readInt8();
        }
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 12);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                if (version >= 4) {
                    p.currentLeaderEpoch = r.readInt32();
                }
                p.timestamp = r.readInt64();
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        if (version >= 10) {
            m.timeoutMs = r.readInt32();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 6;
        w.writeInt32(replicaId);
        if (version >= 2) {
            w.writeInt8(isolationLevel);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex);
                if (version >= 4) {
                    w.writeInt32(p.currentLeaderEpoch);
                }
                w.writeInt64(p.timestamp);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        if (version >= 10) {
            w.writeInt32(timeoutMs);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
