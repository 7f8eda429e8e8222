package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DescribeConfigs response v1-v4 (flexible from v4): per resource its configs with value, read-only flag, source
 * (1 topic, 4 static broker, 5 default), sensitivity, synonyms; from v3 the type and documentation.
 */
public final class DescribeConfigsResponse implements Message {
    /** A synonym: the same setting under another name and source (e.g. the broker property behind a topic config). */
    public static final class Synonym {
        public String name;
        public String value;
        public byte source;
        public RawTaggedFields taggedFields;

        public Synonym() {
        }

        public Synonym(String name, String value, byte source) {
            this.name = name;
            this.value = value;
            this.source = source;
        }
    }

    /** One config entry. */
    public static final class Config {
        public String name;
        public String value;
        public boolean readOnly;
        public byte configSource = -1;
        public boolean isSensitive;
        public final List<Synonym> synonyms = new ArrayList<>();
        public byte configType;
        public String documentation;
        public RawTaggedFields taggedFields;
    }

    /** One resource's result. */
    public static final class Result {
        public short errorCode;
        public String errorMessage;
        public byte resourceType;
        public String resourceName;
        public final List<Config> configs = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Result> results = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_CONFIGS;
    }

    public static DescribeConfigsResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        DescribeConfigsResponse m = new DescribeConfigsResponse();
        m.throttleTimeMs = r.readInt32();
        int n = r.readNonNullArrayLength(flex, 8);
        for (int i = 0; i < n; i++) {
            Result res = new Result();
            res.errorCode = r.readInt16();
            res.errorMessage = r.readNullableString(flex);
            res.resourceType = r.readInt8();
            res.resourceName = r.readString(flex);
            int nc = r.readNonNullArrayLength(flex, 5);
            for (int j = 0; j < nc; j++) {
                Config c = new Config();
                c.name = r.readString(flex);
                c.value = r.readNullableString(flex);
                c.readOnly = r.readBoolean();
                c.configSource = r.readInt8();
                c.isSensitive = r.readBoolean();
                int ns = r.readNonNullArrayLength(flex, 3);
                for (int k = 0; k < ns; k++) {
                    Synonym s = new Synonym();
                    s.name = r.readString(flex);
                    s.value = r.readNullableString(flex);
                    s.source = r.readInt8();
                    s.taggedFields = r.readTaggedFieldsIf(flex);
                    c.synonyms.add(s);
                }
                if (version >= 3) {
                    c.configType = r.readInt8();
                    c.documentation = r.readNullableString(flex);
                }
                c.taggedFields = r.readTaggedFieldsIf(flex);
                res.configs.add(c);
            }
            res.taggedFields = r.readTaggedFieldsIf(flex);
            m.results.add(res);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(results.size(), flex);
        for (Result res : results) {
            w.writeInt16(res.errorCode).writeNullableString(res.errorMessage, flex).writeInt8(res.resourceType)
                .writeString(res.resourceName, flex);
            w.writeArrayLength(res.configs.size(), flex);
            for (Config c : res.configs) {
                w.writeString(c.name, flex).writeNullableString(c.value, flex).writeBoolean(c.readOnly)
                    .writeInt8(c.configSource).writeBoolean(c.isSensitive);
                w.writeArrayLength(c.synonyms.size(), flex);
                for (Synonym s : c.synonyms) {
                    w.writeString(s.name, flex).writeNullableString(s.value, flex).writeInt8(s.source);
                    w.writeTaggedFieldsIf(flex, s.taggedFields);
                }
                if (version >= 3) {
                    w.writeInt8(c.configType).writeNullableString(c.documentation, flex);
                }
                w.writeTaggedFieldsIf(flex, c.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, res.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
