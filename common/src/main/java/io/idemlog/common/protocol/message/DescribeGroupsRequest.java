package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DescribeGroups request v0-v6 (flexible from v5): group ids, and from v3 whether to include authorized operations. */
public final class DescribeGroupsRequest implements Message {
    public final List<String> groups = new ArrayList<>();
    /** v3+. */
    public boolean includeAuthorizedOperations;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.DESCRIBE_GROUPS.apiKey();
    }

    public static DescribeGroupsRequest read(WireReader r, short version) {
        boolean flex = version >= 5;
        DescribeGroupsRequest m = new DescribeGroupsRequest();
        m.groups.addAll(Fields.readStrings(r, flex, false));
        if (version >= 3) {
            m.includeAuthorizedOperations = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 5;
        Fields.writeStrings(w, groups, flex);
        if (version >= 3) {
            w.writeBoolean(includeAuthorizedOperations);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
