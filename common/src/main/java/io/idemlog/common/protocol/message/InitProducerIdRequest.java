package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/**
 * InitProducerId request v0-v2: {transactional_id NULLABLE_STRING, transaction_timeout_ms INT32}, flexible from v2.
 * An idempotent (non-transactional) producer sends transactional_id = null.
 */
public final class InitProducerIdRequest implements Message {
    public String transactionalId;
    public int transactionTimeoutMs = Integer.MAX_VALUE;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.INIT_PRODUCER_ID;
    }

    public static InitProducerIdRequest read(WireReader r, short version) {
        boolean flex = version >= 2;
        InitProducerIdRequest m = new InitProducerIdRequest();
        m.transactionalId = r.readNullableString(flex);
        m.transactionTimeoutMs = r.readInt32();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeNullableString(transactionalId, flex);
        w.writeInt32(transactionTimeoutMs);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
