package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Metadata request v0-v9. {@code topics} null means "all topics" (v1+); in v0 an empty list means all topics, which
 * {@link #read} normalises to null. Clients may name the same topic twice.
 */
public final class MetadataRequest implements Message {
    /** Null = all topics; empty = brokers only. */
    public List<String> topics = new ArrayList<>();
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
            for (int i = 0; i < n; i++) {
                m.topics.add(r.readString(flex));
                r.readTaggedFieldsIf(flex);
            }
            if (version == 0 && n == 0) {
                m.topics = null;
            }
        }
        if (version >= 4) {
            m.allowAutoTopicCreation = r.readBoolean();
        }
        if (version >= 8) {
            m.includeClusterAuthorizedOperations = r.readBoolean();
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
            for (String t : topics) {
                w.writeString(t, flex);
                w.writeTaggedFieldsIf(flex, null);
            }
        }
        if (version >= 4) {
            w.writeBoolean(allowAutoTopicCreation);
        }
        if (version >= 8) {
            w.writeBoolean(includeClusterAuthorizedOperations);
            w.writeBoolean(includeTopicAuthorizedOperations);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
