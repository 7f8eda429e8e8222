package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DeleteGroups request v0-v2 (flexible from v2): the group ids to delete. */
public final class DeleteGroupsRequest implements Message {
    public final List<String> groupsNames = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.DELETE_GROUPS.apiKey();
    }

    public static DeleteGroupsRequest read(WireReader r, short version) {
        boolean flex = version >= 2;
        DeleteGroupsRequest m = new DeleteGroupsRequest();
        m.groupsNames.addAll(Fields.readStrings(r, flex, false));
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        Fields.writeStrings(w, groupsNames, flex);
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
