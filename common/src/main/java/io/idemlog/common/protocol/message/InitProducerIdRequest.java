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
    /**
     * idemlog's tagged field (v2+; other brokers skip unknown tags): the producer's stable name, UTF-8 bytes. An
     * idemlog server answers with the same tag in the response, echoing the name, so the client knows the name was
     * understood (docs/PROTOCOL.md).
     */
    public static final int PRODUCER_NAME_TAG = 0x4944;

    /** The producer name carried in the tagged fields, or null. */
    public String producerName() {
        byte[] raw = taggedFields == null ? null : taggedFields.get(PRODUCER_NAME_TAG);
        return raw == null ? null : new String(raw, java.nio.charset.StandardCharsets.UTF_8);
    }

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
