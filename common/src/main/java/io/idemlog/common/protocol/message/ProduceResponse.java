package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Produce response v3-v9. v5 adds log_start_offset, v8 adds record_errors and error_message, v9 is flexible.
 */
public final class ProduceResponse implements Message {
    /**
     * idemlog's tagged field of a partition response (flexible versions, v9+; other clients skip unknown tags):
     * the records of the batch that were not stored because their de-duplication key was stored within the window.
     * Value: unsigned varint count, then per record, in offset order: unsigned varint offset delta in the batch,
     * int64 offset of the original record. See docs/PROTOCOL.md.
     */
    public static final int REPEATS_TAG = 0x4944;

    /** The tagged field value for {@code pairs} = {@code [delta0, original0, delta1, original1, ...]}. */
    public static byte[] encodeRepeats(long[] pairs) {
        int n = pairs.length / 2;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(5 + n * (5 + 8));
        putUnsignedVarint(out, n);
        for (int i = 0; i < n; i++) {
            putUnsignedVarint(out, (int) pairs[2 * i]);
            out.putLong(pairs[2 * i + 1]);
        }
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /**
     * Decodes {@link #REPEATS_TAG}'s value into {@code [delta0, original0, ...]}.
     *
     * @throws io.idemlog.common.protocol.ProtocolException when the bytes are not such a value
     */
    public static long[] decodeRepeats(byte[] data) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(data);
        try {
            int n = getUnsignedVarint(in);
            if (n < 0 || n > data.length) {
                throw new io.idemlog.common.protocol.ProtocolException("bad repeat count " + n);
            }
            long[] pairs = new long[n * 2];
            for (int i = 0; i < n; i++) {
                pairs[2 * i] = getUnsignedVarint(in);
                pairs[2 * i + 1] = in.getLong();
            }
            if (in.hasRemaining()) {
                throw new io.idemlog.common.protocol.ProtocolException(in.remaining() + " bytes after the repeats");
            }
            return pairs;
        } catch (java.nio.BufferUnderflowException e) {
            throw new io.idemlog.common.protocol.ProtocolException("repeats field truncated");
        }
    }

    private static void putUnsignedVarint(java.nio.ByteBuffer out, int v) {
        while ((v & ~0x7F) != 0) {
            out.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    private static int getUnsignedVarint(java.nio.ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new io.idemlog.common.protocol.ProtocolException("varint too long");
    }

    /** A record-level error (v8+): which record of the batch, and why. */
    public static final class RecordError {
        public int batchIndex;
        public String message;

        public RecordError() {
        }

        public RecordError(int batchIndex, String message) {
            this.batchIndex = batchIndex;
            this.message = message;
        }
    }

    /** The outcome for one partition. */
    public static final class PartitionResponse {
        public int index;
        public short errorCode;
        public long baseOffset = -1L;
        public long logAppendTimeMs = -1L;
        public long logStartOffset = -1L;
        public List<RecordError> recordErrors = List.of();
        public String errorMessage;
        public RawTaggedFields taggedFields;

        public PartitionResponse() {
        }

        public PartitionResponse(int index, short errorCode, long baseOffset, long logStartOffset) {
            this.index = index;
            this.errorCode = errorCode;
            this.baseOffset = baseOffset;
            this.logStartOffset = logStartOffset;
        }
    }

    /** One topic's partitions. */
    public static final class TopicResponse {
        public String name;
        public final List<PartitionResponse> partitions;
        public RawTaggedFields taggedFields;

        public TopicResponse() {
            this.partitions = new ArrayList<>(4);
        }

        public TopicResponse(String name) {
            this(name, 4);
        }

        /** With room for {@code expectedPartitions} partition responses: the list does not grow as it is filled. */
        public TopicResponse(String name, int expectedPartitions) {
            this.name = name;
            this.partitions = new ArrayList<>(expectedPartitions);
        }
    }

    public final List<TopicResponse> topics = new ArrayList<>(2);
    public int throttleTimeMs;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.PRODUCE;
    }

    public static ProduceResponse read(WireReader r, short version) {
        boolean flex = version >= 9;
        ProduceResponse m = new ProduceResponse();
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            TopicResponse t = new TopicResponse();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 14);
            for (int j = 0; j < np; j++) {
                PartitionResponse p = new PartitionResponse();
                p.index = r.readInt32();
                p.errorCode = r.readInt16();
                p.baseOffset = r.readInt64();
                p.logAppendTimeMs = r.readInt64();
                if (version >= 5) {
                    p.logStartOffset = r.readInt64();
                }
                if (version >= 8) {
                    int ne = r.readNonNullArrayLength(flex, 5);
                    if (ne > 0) {
                        p.recordErrors = new ArrayList<>(ne);
                        for (int k = 0; k < ne; k++) {
                            RecordError e = new RecordError();
                            e.batchIndex = r.readInt32();
                            e.message = r.readNullableString(flex);
                            r.readTaggedFieldsIf(flex);
                            p.recordErrors.add(e);
                        }
                    }
                    p.errorMessage = r.readNullableString(flex);
                }
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.throttleTimeMs = r.readInt32();
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 9;
        w.writeArrayLength(topics.size(), flex);
        for (TopicResponse t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (PartitionResponse p : t.partitions) {
                w.writeInt32(p.index).writeInt16(p.errorCode).writeInt64(p.baseOffset).writeInt64(p.logAppendTimeMs);
                if (version >= 5) {
                    w.writeInt64(p.logStartOffset);
                }
                if (version >= 8) {
                    w.writeArrayLength(p.recordErrors.size(), flex);
                    for (RecordError e : p.recordErrors) {
                        w.writeInt32(e.batchIndex).writeNullableString(e.message, flex);
                        w.writeTaggedFieldsIf(flex, null);
                    }
                    w.writeNullableString(p.errorMessage, flex);
                }
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeInt32(throttleTimeMs);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
