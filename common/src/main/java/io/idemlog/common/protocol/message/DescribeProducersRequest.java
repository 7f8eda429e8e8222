package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DescribeProducers request v0 (flexible, KIP-664): topics and partition indexes. */
public final class DescribeProducersRequest implements Message {
    /** One topic and the partitions asked for. */
    public static final class Topic {
        public String name;
        public int[] partitionIndexes = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;
    }

    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_PRODUCERS;
    }

    public static DescribeProducersRequest read(WireReader r, short version) {
        DescribeProducersRequest m = new DescribeProducersRequest();
        int n = r.readNonNullArrayLength(true, 3);
        for (int i = 0; i < n; i++) {
            Topic t = new Topic();
            t.name = r.readString(true);
            t.partitionIndexes = Int32Arrays.read(r, true);
            t.taggedFields = r.readTaggedFields();
            m.topics.add(t);
        }
        m.taggedFields = r.readTaggedFields();
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeArrayLength(topics.size(), true);
        for (Topic t : topics) {
            w.writeString(t.name, true);
            Int32Arrays.write(w, t.partitionIndexes, true);
            w.writeTaggedFields(t.taggedFields);
        }
        w.writeTaggedFields(taggedFields);
    }
}
