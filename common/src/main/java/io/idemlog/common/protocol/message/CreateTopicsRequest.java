package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * CreateTopics request v2-v7 (flexible from v5): topics with partition count, replication factor, manual
 * assignments and configs; timeout; validate_only.
 */
public final class CreateTopicsRequest implements Message {
    /** A manual assignment of one partition to brokers. */
    public static final class Assignment {
        public int partitionIndex;
        public int[] brokerIds = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;
    }

    /** One config override: name and (nullable) value. */
    public static final class Config {
        public String name;
        public String value;
        public RawTaggedFields taggedFields;

        public Config() {
        }

        public Config(String name, String value) {
            this.name = name;
            this.value = value;
        }
    }

    /** One topic to create. */
    public static final class Topic {
        public String name;
        /** -1: the broker default (v4+) or a manual assignment. */
        public int numPartitions = -1;
        /** -1: the broker default (v4+) or a manual assignment. */
        public short replicationFactor = -1;
        public final List<Assignment> assignments = new ArrayList<>();
        public final List<Config> configs = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    public final List<Topic> topics = new ArrayList<>();
    public int timeoutMs = 60_000;
    public boolean validateOnly;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_TOPICS;
    }

    public static CreateTopicsRequest read(WireReader r, short version) {
        boolean flex = version >= 5;
        CreateTopicsRequest m = new CreateTopicsRequest();
        int n = r.readNonNullArrayLength(flex, 10);
        for (int i = 0; i < n; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            t.numPartitions = r.readInt32();
            t.replicationFactor = r.readInt16();
            int na = r.readNonNullArrayLength(flex, 5);
            for (int j = 0; j < na; j++) {
                Assignment a = new Assignment();
                a.partitionIndex = r.readInt32();
                a.brokerIds = Int32Arrays.read(r, flex);
                a.taggedFields = r.readTaggedFieldsIf(flex);
                t.assignments.add(a);
            }
            int nc = r.readNonNullArrayLength(flex, 2);
            for (int j = 0; j < nc; j++) {
                Config c = new Config();
                c.name = r.readString(flex);
                c.value = r.readNullableString(flex);
                c.taggedFields = r.readTaggedFieldsIf(flex);
                t.configs.add(c);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.timeoutMs = r.readInt32();
        if (version >= 1) {
            m.validateOnly = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 5;
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex).writeInt32(t.numPartitions).writeInt16(t.replicationFactor);
            w.writeArrayLength(t.assignments.size(), flex);
            for (Assignment a : t.assignments) {
                w.writeInt32(a.partitionIndex);
                Int32Arrays.write(w, a.brokerIds, flex);
                w.writeTaggedFieldsIf(flex, a.taggedFields);
            }
            w.writeArrayLength(t.configs.size(), flex);
            for (Config c : t.configs) {
                w.writeString(c.name, flex).writeNullableString(c.value, flex);
                w.writeTaggedFieldsIf(flex, c.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeInt32(timeoutMs);
        if (version >= 1) {
            w.writeBoolean(validateOnly);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
