package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DescribeGroups response v0-v6 (flexible from v5): throttle time from v1, authorized operations from v3 (MIN_VALUE
 * = not asked for), member group.instance.id from v4, a per-group error message from v6 (v6 answers an unknown
 * group GROUP_ID_NOT_FOUND, KIP-1043; older versions answer it as a Dead group with no error).
 */
public final class DescribeGroupsResponse implements Message {
    public static final int AUTHORIZED_OPERATIONS_OMITTED = Integer.MIN_VALUE;

    /** One member of a described group. */
    public static final class Member {
        public String memberId = "";
        /** v4+. */
        public String groupInstanceId;
        public String clientId = "";
        public String clientHost = "";
        public byte[] memberMetadata = Fields.NO_BYTES;
        public byte[] memberAssignment = Fields.NO_BYTES;
        public RawTaggedFields taggedFields;
    }

    /** One described group. */
    public static final class Group {
        public short errorCode;
        /** v6+. */
        public String errorMessage;
        public String groupId = "";
        /** "Stable", "Empty", "Dead", ... */
        public String groupState = "";
        public String protocolType = "";
        /** The chosen assignment protocol, "" when none. */
        public String protocolData = "";
        public final List<Member> members = new ArrayList<>();
        /** v3+. */
        public int authorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Group> groups = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.DESCRIBE_GROUPS.apiKey();
    }

    public static DescribeGroupsResponse read(WireReader r, short version) {
        boolean flex = version >= 5;
        DescribeGroupsResponse m = new DescribeGroupsResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        int ng = r.readNonNullArrayLength(flex, flex ? 7 : 14);
        for (int i = 0; i < ng; i++) {
            Group g = new Group();
            g.errorCode = r.readInt16();
            if (version >= 6) {
                g.errorMessage = r.readNullableString(flex);
            }
            g.groupId = r.readString(flex);
            g.groupState = r.readString(flex);
            g.protocolType = r.readString(flex);
            g.protocolData = r.readString(flex);
            int nm = r.readNonNullArrayLength(flex, flex ? 6 : 14);
            for (int j = 0; j < nm; j++) {
                Member mm = new Member();
                mm.memberId = r.readString(flex);
                if (version >= 4) {
                    mm.groupInstanceId = r.readNullableString(flex);
                }
                mm.clientId = r.readString(flex);
                mm.clientHost = r.readString(flex);
                mm.memberMetadata = Fields.readBytes(r, flex);
                mm.memberAssignment = Fields.readBytes(r, flex);
                mm.taggedFields = r.readTaggedFieldsIf(flex);
                g.members.add(mm);
            }
            if (version >= 3) {
                g.authorizedOperations = r.readInt32();
            }
            g.taggedFields = r.readTaggedFieldsIf(flex);
            m.groups.add(g);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 5;
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(groups.size(), flex);
        for (Group g : groups) {
            w.writeInt16(g.errorCode);
            if (version >= 6) {
                w.writeNullableString(g.errorMessage, flex);
            }
            w.writeString(g.groupId, flex).writeString(g.groupState, flex).writeString(g.protocolType, flex)
                .writeString(g.protocolData, flex);
            w.writeArrayLength(g.members.size(), flex);
            for (Member mm : g.members) {
                w.writeString(mm.memberId, flex);
                if (version >= 4) {
                    w.writeNullableString(mm.groupInstanceId, flex);
                }
                w.writeString(mm.clientId, flex).writeString(mm.clientHost, flex);
                Fields.writeBytes(w, mm.memberMetadata, flex);
                Fields.writeBytes(w, mm.memberAssignment, flex);
                w.writeTaggedFieldsIf(flex, mm.taggedFields);
            }
            if (version >= 3) {
                w.writeInt32(g.authorizedOperations);
            }
            w.writeTaggedFieldsIf(flex, g.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
