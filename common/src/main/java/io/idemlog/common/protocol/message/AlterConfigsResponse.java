package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** AlterConfigs (v0-v2) and IncrementalAlterConfigs (v0-v1) responses: one error per resource. */
public final class AlterConfigsResponse implements Message {
    /** One resource's result. */
    public static final class Result {
        public short errorCode;
        public String errorMessage;
        public byte resourceType;
        public String resourceName;
        public RawTaggedFields taggedFields;
    }

    public final boolean incremental;
    public int throttleTimeMs;
    public final List<Result> responses = new ArrayList<>();
    public RawTaggedFields taggedFields;

    public AlterConfigsResponse(boolean incremental) {
        this.incremental = incremental;
    }

    @Override
    public ApiKey apiKey() {
        return incremental ? ApiKey.INCREMENTAL_ALTER_CONFIGS : ApiKey.ALTER_CONFIGS;
    }

    public static AlterConfigsResponse readAlter(WireReader r, short version) {
        return read(r, version, false);
    }

    public static AlterConfigsResponse readIncremental(WireReader r, short version) {
        return read(r, version, true);
    }

    private static AlterConfigsResponse read(WireReader r, short version, boolean incremental) {
        boolean flex = version >= (incremental ? 1 : 2);
        AlterConfigsResponse m = new AlterConfigsResponse(incremental);
        m.throttleTimeMs = r.readInt32();
        int n = r.readNonNullArrayLength(flex, 6);
        for (int i = 0; i < n; i++) {
            Result res = new Result();
            res.errorCode = r.readInt16();
            res.errorMessage = r.readNullableString(flex);
            res.resourceType = r.readInt8();
            res.resourceName = r.readString(flex);
            res.taggedFields = r.readTaggedFieldsIf(flex);
            m.responses.add(res);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= (incremental ? 1 : 2);
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(responses.size(), flex);
        for (Result res : responses) {
            w.writeInt16(res.errorCode).writeNullableString(res.errorMessage, flex).writeInt8(res.resourceType)
                .writeString(res.resourceName, flex);
            w.writeTaggedFieldsIf(flex, res.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
