package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** Heartbeat request v0-v4 (flexible from v4): group.instance.id from v3. */
public final class HeartbeatRequest implements Message {
    public String groupId = "";
    public int generationId;
    public String memberId = "";
    /** v3+. */
    public String groupInstanceId;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.HEARTBEAT.apiKey();
    }

    public static HeartbeatRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        HeartbeatRequest m = new HeartbeatRequest();
        m.groupId = r.readString(flex);
        m.generationId = r.readInt32();
        m.memberId = r.readString(flex);
        if (version >= 3) {
            m.groupInstanceId = r.readNullableString(flex);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        w.writeString(groupId, flex).writeInt32(generationId).writeString(memberId, flex);
        if (version >= 3) {
            w.writeNullableString(groupInstanceId, flex);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
