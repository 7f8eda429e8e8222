package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * JoinGroup request v0-v9 (flexible from v6): rebalance timeout from v1 (v0: the session timeout serves as both),
 * group.instance.id from v5 (KIP-345), reason from v8 (KIP-800). From v4 a member without an id is answered
 * MEMBER_ID_REQUIRED with an id to join again with (KIP-394). Protocol metadata is opaque to the coordinator.
 */
public final class JoinGroupRequest implements Message {
    /** One assignment protocol the member supports, with its (client-defined) subscription metadata. */
    public static final class Protocol {
        public String name = "";
        public byte[] metadata = Fields.NO_BYTES;
        public RawTaggedFields taggedFields;

        public Protocol() {
        }

        public Protocol(String name, byte[] metadata) {
            this.name = name;
            this.metadata = metadata;
        }
    }

    public String groupId = "";
    public int sessionTimeoutMs;
    /** v1+; -1 (absent) means: use the session timeout. */
    public int rebalanceTimeoutMs = -1;
    public String memberId = "";
    /** v5+; null for a dynamic member. */
    public String groupInstanceId;
    public String protocolType = "";
    public final List<Protocol> protocols = new ArrayList<>();
    /** v8+. */
    public String reason;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.JOIN_GROUP.apiKey();
    }

    /** The rebalance timeout that applies: the session timeout when the version (v0) or the client gives none. */
    public int effectiveRebalanceTimeoutMs() {
        return rebalanceTimeoutMs == -1 ? sessionTimeoutMs : rebalanceTimeoutMs;
    }

    public static JoinGroupRequest read(WireReader r, short version) {
        boolean flex = version >= 6;
        JoinGroupRequest m = new JoinGroupRequest();
        m.groupId = r.readString(flex);
        m.sessionTimeoutMs = r.readInt32();
        if (version >= 1) {
            m.rebalanceTimeoutMs = r.readInt32();
        }
        m.memberId = r.readString(flex);
        if (version >= 5) {
            m.groupInstanceId = r.readNullableString(flex);
        }
        m.protocolType = r.readString(flex);
        int n = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < n; i++) {
            Protocol p = new Protocol();
            p.name = r.readString(flex);
            p.metadata = Fields.readBytes(r, flex);
            p.taggedFields = r.readTaggedFieldsIf(flex);
            m.protocols.add(p);
        }
        if (version >= 8) {
            m.reason = r.readNullableString(flex);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 6;
        w.writeString(groupId, flex).writeInt32(sessionTimeoutMs);
        if (version >= 1) {
            w.writeInt32(rebalanceTimeoutMs);
        }
        w.writeString(memberId, flex);
        if (version >= 5) {
            w.writeNullableString(groupInstanceId, flex);
        }
        w.writeString(protocolType, flex);
        w.writeArrayLength(protocols.size(), flex);
        for (Protocol p : protocols) {
            w.writeString(p.name, flex);
            Fields.writeBytes(w, p.metadata, flex);
            w.writeTaggedFieldsIf(flex, p.taggedFields);
        }
        if (version >= 8) {
            w.writeNullableString(reason, flex);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
