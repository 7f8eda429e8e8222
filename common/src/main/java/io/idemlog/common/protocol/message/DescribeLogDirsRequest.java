package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DescribeLogDirs request v0-v4 (flexible from v2; v1, v3 and v4 change only the response): the topics and
 * partitions to describe, or null for every partition.
 */
public final class DescribeLogDirsRequest implements Message {
    /** One topic and the partitions asked for. */
    public static final class Topic {
        public String topic;
        public int[] partitions = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String topic, int... partitions) {
            this.topic = topic;
            this.partitions = partitions;
        }
    }

    /** Null: every topic. */
    public List<Topic> topics;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_LOG_DIRS;
    }

    public static DescribeLogDirsRequest read(WireReader r, short version) {
        boolean flex = version >= 2;
        DescribeLogDirsRequest m = new DescribeLogDirsRequest();
        int n = r.readArrayLength(flex, flex ? 3 : 6);
        if (n >= 0) {
            m.topics = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Topic t = new Topic();
                t.topic = r.readString(flex);
                t.partitions = Int32Arrays.read(r, flex);
                t.taggedFields = r.readTaggedFieldsIf(flex);
                m.topics.add(t);
            }
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        if (topics == null) {
            w.writeArrayLength(-1, flex);
        } else {
            w.writeArrayLength(topics.size(), flex);
            for (Topic t : topics) {
                w.writeString(t.topic, flex);
                Int32Arrays.write(w, t.partitions, flex);
                w.writeTaggedFieldsIf(flex, t.taggedFields);
            }
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
