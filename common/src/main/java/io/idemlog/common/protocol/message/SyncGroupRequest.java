package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * SyncGroup request v0-v5 (flexible from v4): group.instance.id from v3, protocol type and name from v5 (checked
 * against the group's). Only the leader sends {@link #assignments}; they are relayed, never interpreted.
 */
public final class SyncGroupRequest implements Message {
    /** The leader's assignment for one member. */
    public static final class Assignment {
        public String memberId = "";
        public byte[] assignment = Fields.NO_BYTES;
        public RawTaggedFields taggedFields;

        public Assignment() {
        }

        public Assignment(String memberId, byte[] assignment) {
            this.memberId = memberId;
            this.assignment = assignment;
        }
    }

    public String groupId = "";
    public int generationId;
    public String memberId = "";
    /** v3+. */
    public String groupInstanceId;
    /** v5+. */
    public String protocolType;
    /** v5+. */
    public String protocolName;
    public final List<Assignment> assignments = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.SYNC_GROUP.apiKey();
    }

    public static SyncGroupRequest read(WireReader r, short version) {
        boolean flex = version >= 4;
        SyncGroupRequest m = new SyncGroupRequest();
        m.groupId = r.readString(flex);
        m.generationId = r.readInt32();
        m.memberId = r.readString(flex);
        if (version >= 3) {
            m.groupInstanceId = r.readNullableString(flex);
        }
        if (version >= 5) {
            m.protocolType = r.readNullableString(flex);
            m.protocolName = r.readNullableString(flex);
        }
        int n = r.readNonNullArrayLength(flex, flex ? 3 : 6);
        for (int i = 0; i < n; i++) {
            Assignment a = new Assignment();
            a.memberId = r.readString(flex);
            a.assignment = Fields.readBytes(r, flex);
            a.taggedFields = r.readTaggedFieldsIf(flex);
            m.assignments.add(a);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 4;
        w.writeString(groupId, flex).writeInt32(generationId).writeString(memberId, flex);
        if (version >= 3) {
            w.writeNullableString(groupInstanceId, flex);
        }
        if (version >= 5) {
            w.writeNullableString(protocolType, flex).writeNullableString(protocolName, flex);
        }
        w.writeArrayLength(assignments.size(), flex);
        for (Assignment a : assignments) {
            w.writeString(a.memberId, flex);
            Fields.writeBytes(w, a.assignment, flex);
            w.writeTaggedFieldsIf(flex, a.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
