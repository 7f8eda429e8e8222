package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** SyncGroup response v0-v5 (flexible from v4): throttle time from v1, protocol type and name from v5. */
public final class SyncGroupResponse implements Message {
    public int throttleTimeMs;
    public short errorCode;
    /** v5+. */
    public String protocolType;
    /** v5+. */
    public String protocolName;
    /** This member's assignment, as the leader sent it (empty on error). */
    public byte[] assignment = Fields.NO_BYTES;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.SYNC_GROUP.apiKey();
    }

    public static SyncGroupResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        SyncGroupResponse m = new SyncGroupResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        m.errorCode = r.readInt16();
        if (version >= 5) {
            m.protocolType = r.readNullableString(flex);
            m.protocolName = r.readNullableString(flex);
        }
        m.assignment = Fields.readBytes(r, flex);
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeInt16(errorCode);
        if (version >= 5) {
            w.writeNullableString(protocolType, flex).writeNullableString(protocolName, flex);
        }
        Fields.writeBytes(w, assignment, flex);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
