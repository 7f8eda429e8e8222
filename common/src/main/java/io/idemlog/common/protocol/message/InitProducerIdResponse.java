package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** InitProducerId response v0-v2: {throttle_time_ms, error_code, producer_id INT64, producer_epoch INT16}. */
public final class InitProducerIdResponse implements Message {
    public int throttleTimeMs;
    public short errorCode;
    public long producerId = -1L;
    public short producerEpoch = -1;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.INIT_PRODUCER_ID;
    }

    public static InitProducerIdResponse read(WireReader r, short version) {
        boolean flex = version >= 2;
        InitProducerIdResponse m = new InitProducerIdResponse();
        m.throttleTimeMs = r.readInt32();
        m.errorCode = r.readInt16();
        m.producerId = r.readInt64();
        m.producerEpoch = r.readInt16();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeInt32(throttleTimeMs).writeInt16(errorCode).writeInt64(producerId).writeInt16(producerEpoch);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
