package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** CreatePartitions request v0-v3 (flexible from v2): per topic the new total count and optional assignments. */
public final class CreatePartitionsRequest implements Message {
    /** One topic: its new partition count, and (nullable) the brokers of each new partition. */
    public static final class Topic {
        public String name;
        public int count;
        /** Null: no manual assignment. Each element: the broker ids of one new partition. */
        public List<int[]> assignments;
        /** Tagged fields of each assignment, kept raw (null entries for none). */
        public List<RawTaggedFields> assignmentTaggedFields;
        public RawTaggedFields taggedFields;
    }

    public final List<Topic> topics = new ArrayList<>();
    public int timeoutMs = 60_000;
    public boolean validateOnly;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_PARTITIONS;
    }

    public static CreatePartitionsRequest read(WireReader r, short version) {
        boolean flex = version >= 2;
        CreatePartitionsRequest m = new CreatePartitionsRequest();
        int n = r.readNonNullArrayLength(flex, 6);
        for (int i = 0; i < n; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            t.count = r.readInt32();
            int na = r.readArrayLength(flex, 1);
            if (na >= 0) {
                t.assignments = new ArrayList<>(na);
                t.assignmentTaggedFields = new ArrayList<>(na);
                for (int j = 0; j < na; j++) {
                    t.assignments.add(Int32Arrays.read(r, flex));
                    t.assignmentTaggedFields.add(r.readTaggedFieldsIf(flex));
                }
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.timeoutMs = r.readInt32();
        m.validateOnly = r.readBoolean();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex).writeInt32(t.count);
            if (t.assignments == null) {
                w.writeArrayLength(-1, flex);
            } else {
                w.writeArrayLength(t.assignments.size(), flex);
                for (int j = 0; j < t.assignments.size(); j++) {
                    Int32Arrays.write(w, t.assignments.get(j), flex);
                    w.writeTaggedFieldsIf(flex, t.assignmentTaggedFields == null ? null
                        : t.assignmentTaggedFields.get(j));
                }
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeInt32(timeoutMs).writeBoolean(validateOnly);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
