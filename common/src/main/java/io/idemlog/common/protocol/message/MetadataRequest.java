package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Metadata request v0-v12. {@code topics} null means "all topics" (v1+); in v0 an empty list means all topics, which
 * {@link #read} normalises to null. Clients may name the same topic twice. From v10 each topic also carries a topic
 * id ({@link #topicIds}, parallel to {@link #topics}; the zero id when the topic is named), and its name may be null
 * when it is asked for by id; v11 drops include_cluster_authorized_operations.
 */
public final class MetadataRequest implements Message {
    /** Null = all topics; empty = brokers only. */
    public List<String> topics = new ArrayList<>();
    /** v10+: the topic id of each entry of {@link #topics} (zero = by name); null below v10 or when all topics. */
    public List<java.util.UUID> topicIds;
    public boolean allowAutoTopicCreation = true;
    public boolean includeClusterAuthorizedOperations;
    public boolean includeTopicAuthorizedOperations;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.METADATA;
    }

    public static MetadataRequest read(WireReader r, short version) {
        boolean flex = version >= 9;
        MetadataRequest m = new MetadataRequest();
        int n = r.readArrayLength(flex, 1);
        if (n < 0) {
            if (version < 1) {
                throw new io.idemlog.common.protocol.ProtocolException("null topics in Metadata v0");
            }
            m.topics = null;
        } else {
            if (version >= 10) {
                m.topicIds = new ArrayList<>(n);
            }
            for (int i = 0; i < n; i++) {
                if (version >= 10) {
                    m.topicIds.add(r.readUuid());
                    m.topics.add(r.readNullableString(flex));
                } else {
                    m.topics.add(r.readString(flex));
                }
                r.readTaggedFieldsIf(flex);
            }
            if (version == 0 && n == 0) {
                m.topics = null;
            }
        }
        if (version >= 4) {
            m.allowAutoTopicCreation = r.readBoolean();
        }
        if (version >= 8 && version <= 10) {
            m.includeClusterAuthorizedOperations = r.readBoolean();
        }
        if (version >= 8) {
            m.includeTopicAuthorizedOperations = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 9;
        if (topics == null) {
            w.writeArrayLength(version == 0 ? 0 : -1, flex);
        } else {
            w.writeArrayLength(topics.size(), flex);
            for (int i = 0; i < topics.size(); i++) {
                if (version >= 10) {
                    w.writeUuid(topicIds == null ? new java.util.UUID(0, 0) : topicIds.get(i));
                    w.writeNullableString(topics.get(i), flex);
                } else {
                    w.writeString(topics.get(i), flex);
                }
                w.writeTaggedFieldsIf(flex, null);
            }
        }
        if (version >= 4) {
            w.writeBoolean(allowAutoTopicCreation);
        }
        if (version >= 8 && version <= 10) {
            w.writeBoolean(includeClusterAuthorizedOperations);
        }
        if (version >= 8) {
            w.writeBoolean(includeTopicAuthorizedOperations);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
