package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * CreateTopics response v2-v7 (flexible from v5): per topic the error, and from v5 the partition count,
 * replication factor and effective configs (KIP-525), from v7 the topic id.
 */
public final class CreateTopicsResponse implements Message {
    /** One effective config of a created topic (v5+). */
    public static final class Config {
        public String name;
        public String value;
        public boolean readOnly;
        public byte configSource = -1;
        public boolean isSensitive;
        public RawTaggedFields taggedFields;

        public Config() {
        }

        public Config(String name, String value, boolean readOnly, byte configSource) {
            this.name = name;
            this.value = value;
            this.readOnly = readOnly;
            this.configSource = configSource;
        }
    }

    /** One topic's result. */
    public static final class Topic {
        public String name;
        public UUID topicId = new UUID(0, 0);
        public short errorCode;
        public String errorMessage;
        public int numPartitions = -1;
        public short replicationFactor = -1;
        /** Null: not reported (an error, or a version before 5). */
        public List<Config> configs;
        /** Tag 0 holds topic_config_error_code (kept raw). */
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_TOPICS;
    }

    public static CreateTopicsResponse read(WireReader r, short version) {
        boolean flex = version >= 5;
        CreateTopicsResponse m = new CreateTopicsResponse();
        if (version >= 2) {
            m.throttleTimeMs = r.readInt32();
        }
        int n = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < n; i++) {
            Topic t = new Topic();
            t.name = r.readString(flex);
            if (version >= 7) {
                t.topicId = r.readUuid();
            }
            t.errorCode = r.readInt16();
            if (version >= 1) {
                t.errorMessage = r.readNullableString(flex);
            }
            if (version >= 5) {
                t.numPartitions = r.readInt32();
                t.replicationFactor = r.readInt16();
                int nc = r.readArrayLength(flex, 5);
                if (nc >= 0) {
                    t.configs = new ArrayList<>(nc);
                    for (int j = 0; j < nc; j++) {
                        Config c = new Config();
                        c.name = r.readString(flex);
                        c.value = r.readNullableString(flex);
                        c.readOnly = r.readBoolean();
                        c.configSource = r.readInt8();
                        c.isSensitive = r.readBoolean();
                        c.taggedFields = r.readTaggedFieldsIf(flex);
                        t.configs.add(c);
                    }
                }
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 5;
        if (version >= 2) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.name, flex);
            if (version >= 7) {
                w.writeUuid(t.topicId);
            }
            w.writeInt16(t.errorCode);
            if (version >= 1) {
                w.writeNullableString(t.errorMessage, flex);
            }
            if (version >= 5) {
                w.writeInt32(t.numPartitions).writeInt16(t.replicationFactor);
                if (t.configs == null) {
                    w.writeArrayLength(-1, flex);
                } else {
                    w.writeArrayLength(t.configs.size(), flex);
                    for (Config c : t.configs) {
                        w.writeString(c.name, flex).writeNullableString(c.value, flex).writeBoolean(c.readOnly)
                            .writeInt8(c.configSource).writeBoolean(c.isSensitive);
                        w.writeTaggedFieldsIf(flex, c.taggedFields);
                    }
                }
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
