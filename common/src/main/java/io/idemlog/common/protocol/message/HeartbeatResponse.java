package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** Heartbeat response v0-v4 (flexible from v4): throttle time from v1, then the error code. */
public final class HeartbeatResponse implements Message {
    public int throttleTimeMs;
    public short errorCode;
    public RawTaggedFields taggedFields;

    public HeartbeatResponse() {
    }

    public HeartbeatResponse(short errorCode) {
        this.errorCode = errorCode;
    }

    @Override
    public ApiKey apiKey() {
        return GroupApis.HEARTBEAT.apiKey();
    }

    public static HeartbeatResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        HeartbeatResponse m = new HeartbeatResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        m.errorCode = r.readInt16();
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
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
