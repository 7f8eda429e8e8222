package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** LeaveGroup response v0-v5 (flexible from v4): throttle time from v1, a per-member error from v3. */
public final class LeaveGroupResponse implements Message {
    /** One member's answer (v3+). */
    public static final class Member {
        public String memberId = "";
        public String groupInstanceId;
        public short errorCode;
        public RawTaggedFields taggedFields;

        public Member() {
        }

        public Member(String memberId, String groupInstanceId, short errorCode) {
            this.memberId = memberId;
            this.groupInstanceId = groupInstanceId;
            this.errorCode = errorCode;
        }
    }

    public int throttleTimeMs;
    public short errorCode;
    /** v3+. */
    public final List<Member> members = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.LEAVE_GROUP.apiKey();
    }

    public static LeaveGroupResponse read(WireReader r, short version) {
        boolean flex = version >= 4;
        LeaveGroupResponse m = new LeaveGroupResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        m.errorCode = r.readInt16();
        if (version >= 3) {
            int n = r.readNonNullArrayLength(flex, flex ? 5 : 6);
            for (int i = 0; i < n; i++) {
                Member mm = new Member();
                mm.memberId = r.readString(flex);
                mm.groupInstanceId = r.readNullableString(flex);
                mm.errorCode = r.readInt16();
                mm.taggedFields = r.readTaggedFieldsIf(flex);
                m.members.add(mm);
            }
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeInt16(errorCode);
        if (version >= 3) {
            w.writeArrayLength(members.size(), flex);
            for (Member mm : members) {
                w.writeString(mm.memberId, flex).writeNullableString(mm.groupInstanceId, flex);
                w.writeInt16(mm.errorCode);
                w.writeTaggedFieldsIf(flex, mm.taggedFields);
            }
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
