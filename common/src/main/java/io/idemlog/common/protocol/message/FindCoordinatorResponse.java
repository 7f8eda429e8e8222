package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * FindCoordinator response v0-v6 (flexible from v3). v0-v3 carry one answer in the top-level fields (error message
 * from v1); v4+ one {@link Coordinator} per requested key. {@link #answer} fills whichever shape the version uses.
 */
public final class FindCoordinatorResponse implements Message {
    /** One key's coordinator (v4+). */
    public static final class Coordinator {
        public String key = "";
        public int nodeId;
        public String host = "";
        public int port;
        public short errorCode;
        public String errorMessage;
        public RawTaggedFields taggedFields;

        public Coordinator() {
        }

        public Coordinator(String key, int nodeId, String host, int port, short errorCode, String errorMessage) {
            this.key = key;
            this.nodeId = nodeId;
            this.host = host;
            this.port = port;
            this.errorCode = errorCode;
            this.errorMessage = errorMessage;
        }
    }

    public int throttleTimeMs;
    /** v0-v3. */
    public short errorCode;
    /** v1-v3. */
    public String errorMessage;
    /** v0-v3. */
    public int nodeId;
    /** v0-v3. */
    public String host = "";
    /** v0-v3. */
    public int port;
    /** v4+. */
    public final List<Coordinator> coordinators = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.FIND_COORDINATOR.apiKey();
    }

    /**
     * Adds the answer for one key: below v4 into the top-level fields (one key per request there), from v4 as a
     * {@link Coordinator}. An error answer should give nodeId -1, host "" and port -1, as Kafka does.
     */
    public FindCoordinatorResponse answer(short version, String key, int nodeId, String host, int port,
                                          short errorCode, String errorMessage) {
        if (version >= 4) {
            coordinators.add(new Coordinator(key, nodeId, host, port, errorCode, errorMessage));
        } else {
            this.nodeId = nodeId;
            this.host = host;
            this.port = port;
            this.errorCode = errorCode;
            this.errorMessage = errorMessage;
        }
        return this;
    }

    public static FindCoordinatorResponse read(WireReader r, short version) {
        boolean flex = version >= 3;
        FindCoordinatorResponse m = new FindCoordinatorResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        if (version <= 3) {
            m.errorCode = r.readInt16();
            if (version >= 1) {
                m.errorMessage = r.readNullableString(flex);
            }
            m.nodeId = r.readInt32();
            m.host = r.readString(flex);
            m.port = r.readInt32();
        } else {
            int n = r.readNonNullArrayLength(flex, 13);
            for (int i = 0; i < n; i++) {
                Coordinator c = new Coordinator();
                c.key = r.readString(flex);
                c.nodeId = r.readInt32();
                c.host = r.readString(flex);
                c.port = r.readInt32();
                c.errorCode = r.readInt16();
                c.errorMessage = r.readNullableString(flex);
                c.taggedFields = r.readTaggedFieldsIf(flex);
                m.coordinators.add(c);
            }
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 3;
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        if (version <= 3) {
            w.writeInt16(errorCode);
            if (version >= 1) {
                w.writeNullableString(errorMessage, flex);
            }
            w.writeInt32(nodeId).writeString(host, flex).writeInt32(port);
        } else {
            w.writeArrayLength(coordinators.size(), flex);
            for (Coordinator c : coordinators) {
                w.writeString(c.key, flex).writeInt32(c.nodeId).writeString(c.host, flex).writeInt32(c.port);
                w.writeInt16(c.errorCode).writeNullableString(c.errorMessage, flex);
                w.writeTaggedFieldsIf(flex, c.taggedFields);
            }
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
