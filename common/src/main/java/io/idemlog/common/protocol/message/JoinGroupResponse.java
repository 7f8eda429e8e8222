package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * JoinGroup response v0-v9 (flexible from v6): throttle time from v2, protocol type (nullable) from v7, protocol
 * name nullable from v7 (a null name goes out as "" below v7, as Kafka's own broker answers), skip_assignment
 * from v9. Only the leader's answer lists the members and their metadata.
 */
public final class JoinGroupResponse implements Message {
    /** One member, as the leader sees it. */
    public static final class Member {
        public String memberId = "";
        /** v5+. */
        public String groupInstanceId;
        public byte[] metadata = Fields.NO_BYTES;
        public RawTaggedFields taggedFields;

        public Member() {
        }

        public Member(String memberId, String groupInstanceId, byte[] metadata) {
            this.memberId = memberId;
            this.groupInstanceId = groupInstanceId;
            this.metadata = metadata;
        }
    }

    public int throttleTimeMs;
    public short errorCode;
    public int generationId = -1;
    /** v7+. */
    public String protocolType;
    /** Nullable from v7. */
    public String protocolName;
    public String leader = "";
    /** v9+. */
    public boolean skipAssignment;
    public String memberId = "";
    public final List<Member> members = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.JOIN_GROUP.apiKey();
    }

    public static JoinGroupResponse read(WireReader r, short version) {
        boolean flex = version >= 6;
        JoinGroupResponse m = new JoinGroupResponse();
        if (version >= 2) {
            m.throttleTimeMs = r.readInt32();
        }
        m.errorCode = r.readInt16();
        m.generationId = r.readInt32();
        if (version >= 7) {
            m.protocolType = r.readNullableString(flex);
            m.protocolName = r.readNullableString(flex);
        } else {
            m.protocolName = r.readString(flex);
        }
        m.leader = r.readString(flex);
        if (version >= 9) {
            m.skipAssignment = r.readBoolean();
        }
        m.memberId = r.readString(flex);
        int n = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < n; i++) {
            Member mm = new Member();
            mm.memberId = r.readString(flex);
            if (version >= 5) {
                mm.groupInstanceId = r.readNullableString(flex);
            }
            mm.metadata = Fields.readBytes(r, flex);
            mm.taggedFields = r.readTaggedFieldsIf(flex);
            m.members.add(mm);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 6;
        if (version >= 2) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeInt16(errorCode).writeInt32(generationId);
        if (version >= 7) {
            w.writeNullableString(protocolType, flex);
        }
        Fields.writeStringOrEmpty(w, protocolName, version >= 7, flex);
        w.writeString(leader, flex);
        if (version >= 9) {
            w.writeBoolean(skipAssignment);
        }
        w.writeString(memberId, flex);
        w.writeArrayLength(members.size(), flex);
        for (Member mm : members) {
            w.writeString(mm.memberId, flex);
            if (version >= 5) {
                w.writeNullableString(mm.groupInstanceId, flex);
            }
            Fields.writeBytes(w, mm.metadata, flex);
            w.writeTaggedFieldsIf(flex, mm.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
