package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * AlterConfigs (33, v0-v2, flexible from v2) and IncrementalAlterConfigs (44, v0-v1, flexible from v1) requests: the
 * same shape, except that each incremental config carries an operation (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT). The
 * full AlterConfigs replaces every override of the resource by the ones given.
 */
public final class AlterConfigsRequest implements Message {
    public static final byte SET = 0;
    public static final byte DELETE = 1;
    public static final byte APPEND = 2;
    public static final byte SUBTRACT = 3;

    /** One config change. */
    public static final class Config {
        public String name;
        /** Incremental only. */
        public byte operation = SET;
        public String value;
        public RawTaggedFields taggedFields;

        public Config() {
        }

        public Config(String name, byte operation, String value) {
            this.name = name;
            this.operation = operation;
            this.value = value;
        }
    }

    /** One resource (type 2 topic, 4 broker) and its changes. */
    public static final class Resource {
        public byte resourceType;
        public String resourceName;
        public final List<Config> configs = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    /** Which of the two APIs this is. */
    public final boolean incremental;
    public final List<Resource> resources = new ArrayList<>();
    public boolean validateOnly;
    public RawTaggedFields taggedFields;

    public AlterConfigsRequest(boolean incremental) {
        this.incremental = incremental;
    }

    @Override
    public ApiKey apiKey() {
        return incremental ? ApiKey.INCREMENTAL_ALTER_CONFIGS : ApiKey.ALTER_CONFIGS;
    }

    private static boolean flexible(boolean incremental, short version) {
        return version >= (incremental ? 1 : 2);
    }

    public static AlterConfigsRequest readAlter(WireReader r, short version) {
        return read(r, version, false);
    }

    public static AlterConfigsRequest readIncremental(WireReader r, short version) {
        return read(r, version, true);
    }

    private static AlterConfigsRequest read(WireReader r, short version, boolean incremental) {
        boolean flex = flexible(incremental, version);
        AlterConfigsRequest m = new AlterConfigsRequest(incremental);
        int n = r.readNonNullArrayLength(flex, 4);
        for (int i = 0; i < n; i++) {
            Resource res = new Resource();
            res.resourceType = r.readInt8();
            res.resourceName = r.readString(flex);
            int nc = r.readNonNullArrayLength(flex, 2);
            for (int j = 0; j < nc; j++) {
                Config c = new Config();
                c.name = r.readString(flex);
                if (incremental) {
                    c.operation = r.readInt8();
                }
                c.value = r.readNullableString(flex);
                c.taggedFields = r.readTaggedFieldsIf(flex);
                res.configs.add(c);
            }
            res.taggedFields = r.readTaggedFieldsIf(flex);
            m.resources.add(res);
        }
        m.validateOnly = r.readBoolean();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = flexible(incremental, version);
        w.writeArrayLength(resources.size(), flex);
        for (Resource res : resources) {
            w.writeInt8(res.resourceType).writeString(res.resourceName, flex);
            w.writeArrayLength(res.configs.size(), flex);
            for (Config c : res.configs) {
                w.writeString(c.name, flex);
                if (incremental) {
                    w.writeInt8(c.operation);
                }
                w.writeNullableString(c.value, flex);
                w.writeTaggedFieldsIf(flex, c.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, res.taggedFields);
        }
        w.writeBoolean(validateOnly);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
