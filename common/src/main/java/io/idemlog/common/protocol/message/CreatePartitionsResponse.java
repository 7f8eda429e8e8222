package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** CreatePartitions response v0-v3 (flexible from v2): per topic an error and message. */
public final class CreatePartitionsResponse implements Message {
    /** One topic's result. */
    public static final class Result {
        public String name;
        public short errorCode;
        public String errorMessage;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Result> results = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_PARTITIONS;
    }

    public static CreatePartitionsResponse read(WireReader r, short version) {
        boolean flex = version >= 2;
        CreatePartitionsResponse m = new CreatePartitionsResponse();
        m.throttleTimeMs = r.readInt32();
        int n = r.readNonNullArrayLength(flex, 4);
        for (int i = 0; i < n; i++) {
            Result t = new Result();
            t.name = r.readString(flex);
            t.errorCode = r.readInt16();
            t.errorMessage = r.readNullableString(flex);
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.results.add(t);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(results.size(), flex);
        for (Result t : results) {
            w.writeString(t.name, flex).writeInt16(t.errorCode).writeNullableString(t.errorMessage, flex);
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
