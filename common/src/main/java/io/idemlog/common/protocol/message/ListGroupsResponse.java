package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** ListGroups response v0-v5 (flexible from v3): throttle time from v1, group state from v4, group type from v5. */
public final class ListGroupsResponse implements Message {
    /** One group. */
    public static final class Group {
        public String groupId = "";
        public String protocolType = "";
        /** v4+: "Stable", "Empty", "PreparingRebalance", ... */
        public String groupState = "";
        /** v5+: "classic" for the groups idemlog has. */
        public String groupType = "";
        public RawTaggedFields taggedFields;

        public Group() {
        }

        public Group(String groupId, String protocolType, String groupState, String groupType) {
            this.groupId = groupId;
            this.protocolType = protocolType;
            this.groupState = groupState;
            this.groupType = groupType;
        }
    }

    public int throttleTimeMs;
    public short errorCode;
    public final List<Group> groups = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.LIST_GROUPS.apiKey();
    }

    public static ListGroupsResponse read(WireReader r, short version) {
        boolean flex = version >= 3;
        ListGroupsResponse m = new ListGroupsResponse();
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        m.errorCode = r.readInt16();
        int n = r.readNonNullArrayLength(flex, flex ? 3 : 4);
        for (int i = 0; i < n; i++) {
            Group g = new Group();
            g.groupId = r.readString(flex);
            g.protocolType = r.readString(flex);
            if (version >= 4) {
                g.groupState = r.readString(flex);
            }
            if (version >= 5) {
                g.groupType = r.readString(flex);
            }
            g.taggedFields = r.readTaggedFieldsIf(flex);
            m.groups.add(g);
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
        w.writeInt16(errorCode);
        w.writeArrayLength(groups.size(), flex);
        for (Group g : groups) {
            w.writeString(g.groupId, flex).writeString(g.protocolType, flex);
            if (version >= 4) {
                w.writeString(g.groupState, flex);
            }
            if (version >= 5) {
                w.writeString(g.groupType, flex);
            }
            w.writeTaggedFieldsIf(flex, g.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
