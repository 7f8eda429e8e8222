package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DeleteGroups response v0-v2 (flexible from v2): throttle time, then an error per group (NON_EMPTY_GROUP for a group
 * with members, GROUP_ID_NOT_FOUND for an unknown one).
 */
public final class DeleteGroupsResponse implements Message {
    /** One group's result. */
    public static final class Result {
        public String groupId = "";
        public short errorCode;
        public RawTaggedFields taggedFields;

        public Result() {
        }

        public Result(String groupId, short errorCode) {
            this.groupId = groupId;
            this.errorCode = errorCode;
        }
    }

    public int throttleTimeMs;
    public final List<Result> results = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.DELETE_GROUPS.apiKey();
    }

    public static DeleteGroupsResponse read(WireReader r, short version) {
        boolean flex = version >= 2;
        DeleteGroupsResponse m = new DeleteGroupsResponse();
        m.throttleTimeMs = r.readInt32();
        int n = r.readNonNullArrayLength(flex, 4);
        for (int i = 0; i < n; i++) {
            Result res = new Result();
            res.groupId = r.readString(flex);
            res.errorCode = r.readInt16();
            res.taggedFields = r.readTaggedFieldsIf(flex);
            m.results.add(res);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeInt32(throttleTimeMs);
        w.writeArrayLength(results.size(), flex);
        for (Result res : results) {
            w.writeString(res.groupId, flex).writeInt16(res.errorCode);
            w.writeTaggedFieldsIf(flex, res.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
