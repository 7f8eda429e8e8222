package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** ApiVersions request: empty in v0-v2; v3+ carries the client software name and version. */
public final class ApiVersionsRequest implements Message {
    public String clientSoftwareName = "";
    public String clientSoftwareVersion = "";
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.API_VERSIONS;
    }

    public static ApiVersionsRequest read(WireReader r, short version) {
        ApiVersionsRequest m = new ApiVersionsRequest();
        if (version >= 3) {
            m.clientSoftwareName = r.readString(true);
            m.clientSoftwareVersion = r.readString(true);
            m.taggedFields = r.readTaggedFields();
        }
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        if (version >= 3) {
            w.writeString(clientSoftwareName, true);
            w.writeString(clientSoftwareVersion, true);
            w.writeTaggedFields(taggedFields);
        }
    }
}
