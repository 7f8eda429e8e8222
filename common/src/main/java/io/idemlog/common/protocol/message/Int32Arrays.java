package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** ARRAY(INT32) / COMPACT_ARRAY(INT32), used by Metadata (replicas, isr) and Fetch (forgotten partitions). */
final class Int32Arrays {
    static final int[] EMPTY = new int[0];

    private Int32Arrays() {
    }

    static int[] read(WireReader r, boolean compact) {
        int n = r.readNonNullArrayLength(compact, 4);
        if (n == 0) {
            return EMPTY;
        }
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = r.readInt32();
        }
        return values;
    }

    static void write(WireWriter w, int[] values, boolean compact) {
        w.writeArrayLength(values.length, compact);
        for (int v : values) {
            w.writeInt32(v);
        }
    }
}
