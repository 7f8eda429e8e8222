package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** DeleteTopics response v1-v6 (flexible from v4; error messages from v5; topic ids and nullable names from v6). */
public final class DeleteTopicsResponse implements Message {
    /** One topic's result. */
    public static final class Result {
        public String name;
        public UUID topicId = DeleteTopicsRequest.ZERO_UUID;
        public short errorCode;
        public String errorMessage;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Result> responses = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_TOPICS;
    }

    public static DeleteTopicsResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        DeleteTopicsResponse m = new DeleteTopicsResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        int n = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < n; i++) {
            Result t = new Result();
            t.name = version >= 6 ? r.readNullableString(flex) : r.readString(flex);
            if (version >= 6) {
                t.topicId = r.readUuid();
            }
            t.errorCode = r.readInt16();
            if (version >= 5) {
                t.errorMessage = r.readNullableString(flex);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.responses.add(t);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(responses.size(), flex);
        for (Result t : responses) {
            if (version >= 6) {
                w.writeNullableString(t.name, flex).writeUuid(t.topicId);
            } else {
                w.writeString(t.name == null ? "" : t.name, flex);
            }
            w.writeInt16(t.errorCode);
            if (version >= 5) {
                w.writeNullableString(t.errorMessage, flex);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
