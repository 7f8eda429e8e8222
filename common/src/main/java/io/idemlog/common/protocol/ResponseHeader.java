package io.idemlog.common.protocol;

/**
 * Response header v0 {@code correlation_id INT32} and v1 {@code correlation_id INT32, TAG_BUFFER}. Flexible
 * responses use v1, except ApiVersions which always uses v0 (see {@link ApiKey#responseHeaderVersion}).
 */
public final class ResponseHeader {
    private ResponseHeader() {
    }

    public static void write(WireWriter writer, int correlationId, short headerVersion) {
        writer.writeInt32(correlationId);
        if (headerVersion >= 1) {
            writer.writeUnsignedVarint(0);
        }
    }

    /** Reads a response header and returns its correlation id. */
    public static int read(WireReader reader, short headerVersion) {
        int correlationId = reader.readInt32();
        if (headerVersion >= 1) {
            reader.readTaggedFields();
        }
        return correlationId;
    }
}
