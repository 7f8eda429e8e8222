package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** OffsetDelete request v0 (never flexible): a group and the partitions whose committed offsets to delete. */
public final class OffsetDeleteRequest implements Message {
    /** One topic and its partitions. */
    public static final class Topic {
        public String name = "";
        public int[] partitionIndexes = Int32Arrays.EMPTY;

        public Topic() {
        }

        public Topic(String name, int... partitionIndexes) {
            this.name = name;
            this.partitionIndexes = partitionIndexes;
        }
    }

    public String groupId = "";
    public final List<Topic> topics = new ArrayList<>();

    @Override
    public ApiKey apiKey() {
        return GroupApis.OFFSET_DELETE.apiKey();
    }

    public static OffsetDeleteRequest read(WireReader r, short version) {
        OffsetDeleteRequest m = new OffsetDeleteRequest();
        m.groupId = r.readString(false);
        int nt = r.readNonNullArrayLength(false, 6);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.name = r.readString(false);
            // each partition is a struct of one INT32: the same bytes as ARRAY(INT32)
            t.partitionIndexes = Int32Arrays.read(r, false);
            m.topics.add(t);
        }
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeString(groupId, false);
        w.writeArrayLength(topics.size(), false);
        for (Topic t : topics) {
            w.writeString(t.name, false);
            Int32Arrays.write(w, t.partitionIndexes, false);
        }
    }
}
