package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * FindCoordinator request v0-v6 (flexible from v3): v0-v3 name one {@link #key}, v4+ a batch of
 * {@link #coordinatorKeys} (KIP-699); {@link #keyType} (v1+) is {@link #KEY_TYPE_GROUP}, {@link #KEY_TYPE_TRANSACTION}
 * or {@link #KEY_TYPE_SHARE} (v6, "groupId:topicId:partition" keys). {@link #keys(short)} gives the keys of either
 * shape.
 */
public final class FindCoordinatorRequest implements Message {
    public static final byte KEY_TYPE_GROUP = 0;
    public static final byte KEY_TYPE_TRANSACTION = 1;
    public static final byte KEY_TYPE_SHARE = 2;

    /** v0-v3 only. */
    public String key = "";
    /** v1+; v0 is always a group. */
    public byte keyType = KEY_TYPE_GROUP;
    /** v4+ only. */
    public final List<String> coordinatorKeys = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return GroupApis.FIND_COORDINATOR.apiKey();
    }

    /** The keys asked for: {@link #key} alone below v4, {@link #coordinatorKeys} from v4. */
    public List<String> keys(short version) {
        return version >= 4 ? coordinatorKeys : List.of(key);
    }

    public static FindCoordinatorRequest read(WireReader r, short version) {
        boolean flex = version >= 3;
        FindCoordinatorRequest m = new FindCoordinatorRequest();
        if (version <= 3) {
            m.key = r.readString(flex);
        }
        if (version >= 1) {
            m.keyType = r.readInt8();
        }
        if (version >= 4) {
            m.coordinatorKeys.addAll(Fields.readStrings(r, flex, false));
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 3;
        if (version <= 3) {
            w.writeString(key, flex);
        }
        if (version >= 1) {
            w.writeInt8(keyType);
        }
        if (version >= 4) {
            Fields.writeStrings(w, coordinatorKeys, flex);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
