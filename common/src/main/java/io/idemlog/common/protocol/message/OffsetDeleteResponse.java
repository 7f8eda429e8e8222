package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * OffsetDelete response v0 (never flexible): a group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP...), the
 * throttle time (after the error, unlike other APIs), then an error per partition (GROUP_SUBSCRIBED_TO_TOPIC when a
 * member still consumes the topic).
 */
public final class OffsetDeleteResponse implements Message {
    /** One partition's result. */
    public static final class Partition {
        public int partitionIndex;
        public short errorCode;

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

        public Topic() {
        }

        public Topic(String name) {
            this.name = name;
        }
    }

    public short errorCode;
    public int throttleTimeMs;
    public final List<Topic> topics = new ArrayList<>();

    @Override
    public ApiKey apiKey() {
        return GroupApis.OFFSET_DELETE.apiKey();
    }

    public static OffsetDeleteResponse read(WireReader r, short version) {
        OffsetDeleteResponse m = new OffsetDeleteResponse();
        m.errorCode = r.readInt16();
        m.throttleTimeMs = r.readInt32();
        int nt = r.readNonNullArrayLength(false, 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(false);
            int np = r.readNonNullArrayLength(false, 6);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.errorCode = r.readInt16();
                t.partitions.add(p);
            }
            m.topics.add(t);
        }
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeInt16(errorCode).writeInt32(throttleTimeMs);
        w.writeArrayLength(topics.size(), false);
        for (Topic t : topics) {
            w.writeString(t.name, false);
            w.writeArrayLength(t.partitions.size(), false);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt16(p.errorCode);
            }
        }
    }
}
