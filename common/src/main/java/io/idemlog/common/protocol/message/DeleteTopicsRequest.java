package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * DeleteTopics request v1-v6 (flexible from v4): topic names (v1-v5), or from v6 topics by name or by id (a null
 * name and a non-zero id, or a name and the zero id).
 */
public final class DeleteTopicsRequest implements Message {
    public static final UUID ZERO_UUID = new UUID(0, 0);

    /** One topic to delete: by name, or (v6+) by id with a null name. */
    public static final class Topic {
        public String name;
        public UUID topicId = ZERO_UUID;
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String name, UUID topicId) {
            this.name = name;
            this.topicId = topicId;
        }
    }

    public final List<Topic> topics = new ArrayList<>();
    public int timeoutMs = 60_000;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_TOPICS;
    }

    public static DeleteTopicsRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        DeleteTopicsRequest m = new DeleteTopicsRequest();
        if (version >= 6) {
            int n = r.readNonNullArrayLength(flex, 18);
            for (int i = 0; i < n; i++) {
                Topic t = new Topic();
                t.name = r.readNullableString(flex);
                t.topicId = r.readUuid();
                t.taggedFields = r.readTaggedFieldsIf(flex);
                m.topics.add(t);
            }
        } else {
            int n = r.readNonNullArrayLength(flex, 1);
            for (int i = 0; i < n; i++) {
                m.topics.add(new Topic(r.readString(flex), ZERO_UUID));
            }
        }
        m.timeoutMs = r.readInt32();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            if (version >= 6) {
                w.writeNullableString(t.name, flex).writeUuid(t.topicId);
                w.writeTaggedFieldsIf(flex, t.taggedFields);
            } else {
                if (t.name == null) {
                    throw new IllegalArgumentException("DeleteTopics v" + version + " names topics by name only");
                }
                w.writeString(t.name, flex);
            }
        }
        w.writeInt32(timeoutMs);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
