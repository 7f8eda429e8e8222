package io.idemlog.common.protocol;

/**
 * Request header v1 (non-flexible requests) and v2 (flexible requests):
 * {@code api_key INT16, api_version INT16, correlation_id INT32, client_id NULLABLE_STRING [, TAG_BUFFER]}.
 * {@code client_id} keeps its INT16 length even in v2. The header version follows from (api_key, api_version),
 * so the two leading fields are read first.
 */
public final class RequestHeader {
    public short apiKey;
    public short apiVersion;
    public int correlationId;
    public String clientId;
    public RawTaggedFields taggedFields;

    public RequestHeader() {
    }

    public RequestHeader(ApiKey apiKey, short apiVersion, int correlationId, String clientId) {
        this.apiKey = apiKey.id;
        this.apiVersion = apiVersion;
        this.correlationId = correlationId;
        this.clientId = clientId;
    }

    /** The API, or null when idemlog does not implement this api key. */
    public ApiKey api() {
        return ApiKey.forId(apiKey);
    }

    /**
     * Reads a header. For an api key idemlog does not know, only the three fixed fields are read (the header
     * version, hence where the body starts, is unknown) and {@link #api()} returns null.
     */
    public static RequestHeader read(WireReader reader) {
        return read(reader, null);
    }

    /**
     * {@link #read(WireReader)}, with the client id returned as {@code previousClientId} itself (no new String)
     * when its bytes are that string's ({@link WireReader#readNullableString(boolean, String)}): a connection's
     * client sends the same id in every request.
     */
    public static RequestHeader read(WireReader reader, String previousClientId) {
        RequestHeader h = new RequestHeader();
        h.apiKey = reader.readInt16();
        h.apiVersion = reader.readInt16();
        h.correlationId = reader.readInt32();
        ApiKey api = h.api();
        if (api == null) {
            return h;
        }
        h.clientId = reader.readNullableString(false, previousClientId);
        if (api.requestHeaderVersion(h.apiVersion) >= 2) {
            h.taggedFields = reader.readTaggedFields();
        }
        return h;
    }

    public void write(WireWriter writer) {
        ApiKey api = api();
        writer.writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId);
        writer.writeNullableString(clientId, false);
        if (api != null && api.requestHeaderVersion(apiVersion) >= 2) {
            writer.writeTaggedFields(taggedFields);
        }
    }

    @Override
    public String toString() {
        ApiKey api = api();
        return "RequestHeader(" + (api == null ? "api_key=" + apiKey : api.name()) + " v" + apiVersion
            + ", correlation_id=" + correlationId + ", client_id=" + LogSafe.string(clientId) + ")";
    }
}
