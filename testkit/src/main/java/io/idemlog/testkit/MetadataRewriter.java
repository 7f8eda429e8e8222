package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.nio.ByteBuffer;

/**
 * Rewrites the broker addresses of a Metadata response so that clients open their next connections to the proxy,
 * not to the server behind it (a Kafka client bootstraps, then connects to the host:port each broker advertises).
 *
 * <p>Only the brokers array is decoded and re-encoded; everything after it is copied byte for byte. That keeps the
 * rewrite valid for versions beyond what the common codec decodes in full (Kafka 4.x clients and brokers agree on
 * Metadata v13), because the fields up to the end of the brokers array have the same layout in v0-v13:
 * {@code [throttle_time_ms (v3+)] brokers[{node_id, host, port, rack (v1+), TAG_BUFFER (v9+)}]}, compact from v9.
 */
final class MetadataRewriter {
    private MetadataRewriter() {
    }

    /**
     * @param frame   a whole Metadata response frame, size prefix included, from position to limit
     * @param version the request's (hence the response's) version
     * @return a new frame, size prefix included, with every broker at {@code host:port}
     */
    static ByteBuffer rewrite(ByteBuffer frame, short version, String host, int port) {
        boolean flexible = ApiKey.METADATA.isFlexible(version);
        ByteBuffer in = frame.duplicate();
        int start = in.position();
        WireReader reader = new WireReader().wrap(in, start + 4, in.limit());
        ResponseHeader.read(reader, ApiKey.METADATA.responseHeaderVersion(version));
        int headerEnd = reader.position();

        WireWriter writer = new WireWriter(frame.remaining() + 64);
        writer.writeInt32(0);
        writer.writeRaw(bytes(in, start + 4, headerEnd));
        if (version >= 3) {
            writer.writeInt32(reader.readInt32());
        }
        int brokers = reader.readNonNullArrayLength(flexible, 10);
        writer.writeArrayLength(brokers, flexible);
        for (int i = 0; i < brokers; i++) {
            writer.writeInt32(reader.readInt32());
            reader.readString(flexible);
            reader.readInt32();
            writer.writeString(host, flexible).writeInt32(port);
            if (version >= 1) {
                writer.writeNullableString(reader.readNullableString(flexible), flexible);
            }
            RawTaggedFields tags = reader.readTaggedFieldsIf(flexible);
            writer.writeTaggedFieldsIf(flexible, tags);
        }
        writer.writeRaw(bytes(in, reader.position(), in.limit()));
        ByteBuffer out = writer.toFlatBuffer();
        out.putInt(out.position(), out.remaining() - 4);
        return out;
    }

    private static byte[] bytes(ByteBuffer buffer, int from, int to) {
        byte[] bytes = new byte[to - from];
        buffer.get(from, bytes, 0, bytes.length);
        return bytes;
    }
}
