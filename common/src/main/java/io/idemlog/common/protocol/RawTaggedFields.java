package io.idemlog.common.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Tagged fields (KIP-482) that a struct does not interpret, kept as raw bytes so that decoding and re-encoding a
 * message is lossless. Tags are kept in the ascending order the wire requires.
 */
public final class RawTaggedFields {
    /** One tagged field: its tag and its raw value bytes. */
    public record Field(int tag, byte[] data) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Field f && f.tag == tag && Arrays.equals(f.data, data);
        }

        @Override
        public int hashCode() {
            return 31 * tag + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "tag" + tag + "(" + data.length + " bytes)";
        }
    }

    private final List<Field> fields = new ArrayList<>(2);

    public void add(int tag, byte[] data) {
        if (!fields.isEmpty() && fields.get(fields.size() - 1).tag() >= tag) {
            throw new ProtocolException("tagged fields out of order: " + tag + " after " + fields.get(fields.size() - 1).tag());
        }
        fields.add(new Field(tag, data));
    }

    public List<Field> fields() {
        return fields;
    }

    /** The raw bytes of a tag, or null. */
    public byte[] get(int tag) {
        for (Field f : fields) {
            if (f.tag() == tag) {
                return f.data();
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawTaggedFields r && r.fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return Objects.hash(fields);
    }

    @Override
    public String toString() {
        return fields.toString();
    }
}
