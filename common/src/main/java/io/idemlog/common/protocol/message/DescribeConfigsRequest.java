package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DescribeConfigs request v1-v4 (flexible from v4): resources (type 2 = topic, 4 = broker) with the keys wanted
 * (null = all), include_synonyms, include_documentation (v3+).
 */
public final class DescribeConfigsRequest implements Message {
    public static final byte TOPIC = 2;
    public static final byte BROKER = 4;
    public static final byte BROKER_LOGGER = 8;

    /** One resource to describe. */
    public static final class Resource {
        public byte resourceType;
        public String resourceName;
        /** Null: every key. */
        public List<String> configurationKeys;
        public RawTaggedFields taggedFields;
    }

    public final List<Resource> resources = new ArrayList<>();
    public boolean includeSynonyms;
    public boolean includeDocumentation;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_CONFIGS;
    }

    public static DescribeConfigsRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        DescribeConfigsRequest m = new DescribeConfigsRequest();
        int n = r.readNonNullArrayLength(flex, 4);
        for (int i = 0; i < n; i++) {
            Resource res = new Resource();
            res.resourceType = r.readInt8();
            res.resourceName = r.readString(flex);
            int nk = r.readArrayLength(flex, 1);
            if (nk >= 0) {
                res.configurationKeys = new ArrayList<>(nk);
                for (int j = 0; j < nk; j++) {
                    res.configurationKeys.add(r.readString(flex));
                }
            }
            res.taggedFields = r.readTaggedFieldsIf(flex);
            m.resources.add(res);
        }
        if (version >= 1) {
            m.includeSynonyms = r.readBoolean();
        }
        if (version >= 3) {
            m.includeDocumentation = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        w.writeArrayLength(resources.size(), flex);
        for (Resource res : resources) {
            w.writeInt8(res.resourceType).writeString(res.resourceName, flex);
            if (res.configurationKeys == null) {
                w.writeArrayLength(-1, flex);
            } else {
                w.writeArrayLength(res.configurationKeys.size(), flex);
                for (String k : res.configurationKeys) {
                    w.writeString(k, flex);
                }
            }
            w.writeTaggedFieldsIf(flex, res.taggedFields);
        }
        if (version >= 1) {
            w.writeBoolean(includeSynonyms);
        }
        if (version >= 3) {
            w.writeBoolean(includeDocumentation);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
