package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** Wire shapes the group APIs share: non-null BYTES, ARRAY(STRING), strings nullable only in newer versions. */
final class Fields {
    static final byte[] NO_BYTES = new byte[0];

    private Fields() {
    }

    /** A (COMPACT_)BYTES field that may not be null. */
    static byte[] readBytes(WireReader r, boolean compact) {
        byte[] b = r.readNullableBytes(compact);
        if (b == null) {
            throw new ProtocolException("null bytes where a value is required at " + r.position());
        }
        return b;
    }

    static void writeBytes(WireWriter w, byte[] b, boolean compact) {
        if (b == null) {
            throw new IllegalArgumentException("null for a non-nullable bytes field");
        }
        w.writeNullableBytes(b, compact);
    }

    /** ARRAY(STRING) / COMPACT_ARRAY(COMPACT_STRING); null when the array is null and {@code nullable}. */
    static List<String> readStrings(WireReader r, boolean compact, boolean nullable) {
        int min = compact ? 1 : 2;
        int n = nullable ? r.readArrayLength(compact, min) : r.readNonNullArrayLength(compact, min);
        if (n < 0) {
            return null;
        }
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(r.readString(compact));
        }
        return out;
    }

    static void writeStrings(WireWriter w, List<String> values, boolean compact) {
        if (values == null) {
            w.writeArrayLength(-1, compact);
            return;
        }
        w.writeArrayLength(values.size(), compact);
        for (String s : values) {
            w.writeString(s, compact);
        }
    }

    /** A string that is nullable in newer versions only: in the older ones null goes out as "" (as Kafka does). */
    static void writeStringOrEmpty(WireWriter w, String s, boolean nullable, boolean compact) {
        if (nullable) {
            w.writeNullableString(s, compact);
        } else {
            w.writeString(s == null ? "" : s, compact);
        }
    }
}
