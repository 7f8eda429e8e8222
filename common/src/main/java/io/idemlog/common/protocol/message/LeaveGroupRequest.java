package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * LeaveGroup request v0-v5 (flexible from v4): v0-v2 one {@link #memberId}; v3+ a batch of {@link Member}s, each a
 * member id and/or a group.instance.id (KIP-345), with a reason from v5 (KIP-800). {@link #leavers(short)} gives
 * the members of either shape.
 */
public final class LeaveGroupRequest implements Message {
    /** One leaving member (v3+). */
    public static final class Member {
        public String memberId = "";
        public String groupInstanceId;
        /** v5+. */
        public String reason;
        public RawTaggedFields taggedFields;

        public Member() {
        }

        public Member(String memberId, String groupInstanceId) {
            this.memberId = memberId;
            this.groupInstanceId = groupInstanceId;
        }
    }

    public String groupId = "";
    /** v0-v2 only. */
    public String memberId = "";
    /** v3+ only. */
    public final List<Member> members = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.LEAVE_GROUP.apiKey();
    }

    /** The leaving members: {@link #memberId} alone below v3, {@link #members} from v3. */
    public List<Member> leavers(short version) {
        return version >= 3 ? members : List.of(new Member(memberId, null));
    }

    public static LeaveGroupRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        LeaveGroupRequest m = new LeaveGroupRequest();
        m.groupId = r.readString(flex);
        if (version <= 2) {
            m.memberId = r.readString(flex);
        } else {
            int n = r.readNonNullArrayLength(flex, flex ? 3 : 4);
            for (int i = 0; i < n; i++) {
                Member mm = new Member();
                mm.memberId = r.readString(flex);
                mm.groupInstanceId = r.readNullableString(flex);
                if (version >= 5) {
                    mm.reason = r.readNullableString(flex);
                }
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
        w.writeString(groupId, flex);
        if (version <= 2) {
            w.writeString(memberId, flex);
        } else {
            w.writeArrayLength(members.size(), flex);
            for (Member mm : members) {
                w.writeString(mm.memberId, flex).writeNullableString(mm.groupInstanceId, flex);
                if (version >= 5) {
                    w.writeNullableString(mm.reason, flex);
                }
                w.writeTaggedFieldsIf(flex, mm.taggedFields);
            }
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
