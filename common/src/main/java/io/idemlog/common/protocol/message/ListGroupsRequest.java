package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * ListGroups request v0-v5 (flexible from v3): a states filter from v4 (KIP-518) and a types filter from v5
 * (KIP-848: "classic", "consumer"); an empty filter means all.
 */
public final class ListGroupsRequest implements Message {
    /** v4+. */
    public final List<String> statesFilter = new ArrayList<>();
    /** v5+. */
    public final List<String> typesFilter = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.LIST_GROUPS.apiKey();
    }

    public static ListGroupsRequest read(WireReader r, short version) {
        boolean flex = version >= 3;
        ListGroupsRequest m = new ListGroupsRequest();
        if (version >= 4) {
            m.statesFilter.addAll(Fields.readStrings(r, flex, false));
        }
        if (version >= 5) {
            m.typesFilter.addAll(Fields.readStrings(r, flex, false));
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 3;
        if (version >= 4) {
            Fields.writeStrings(w, statesFilter, flex);
        }
        if (version >= 5) {
            Fields.writeStrings(w, typesFilter, flex);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
