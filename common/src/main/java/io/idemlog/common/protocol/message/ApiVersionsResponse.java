package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * ApiVersions response. v0 {error_code, api_keys[]}; v1+ adds throttle_time_ms; v3+ is flexible. The response
 * header is always v0. Feature tags (SupportedFeatures, FinalizedFeatures...) are kept raw and never written by
 * idemlog itself.
 */
public final class ApiVersionsResponse implements Message {
    /** One supported API and its version range. */
    public static final class ApiVersion {
        public short apiKey;
        public short minVersion;
        public short maxVersion;
        public RawTaggedFields taggedFields;

        public ApiVersion() {
        }

        public ApiVersion(short apiKey, short minVersion, short maxVersion) {
            this.apiKey = apiKey;
            this.minVersion = minVersion;
            this.maxVersion = maxVersion;
        }
    }

    public short errorCode;
    public final List<ApiVersion> apiKeys = new ArrayList<>();
    public int throttleTimeMs;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.API_VERSIONS;
    }

    /** The entry for an api key, or null. */
    public ApiVersion find(short apiKey) {
        for (ApiVersion v : apiKeys) {
            if (v.apiKey == apiKey) {
                return v;
            }
        }
        return null;
    }

    public static ApiVersionsResponse read(WireReader r, short version) {
        boolean flex = version >= 3;
        ApiVersionsResponse m = new ApiVersionsResponse();
        m.errorCode = r.readInt16();
        int n = r.readNonNullArrayLength(flex, 6);
        for (int i = 0; i < n; i++) {
            ApiVersion v = new ApiVersion();
            v.apiKey = r.readInt16();
            v.minVersion = r.readInt16();
            v.maxVersion = r.readInt16();
            v.taggedFields = r.readTaggedFieldsIf(flex);
            m.apiKeys.add(v);
        }
        if (version >= 1) {
            m.throttleTimeMs = r.readInt32();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 3;
        w.writeInt16(errorCode);
        w.writeArrayLength(apiKeys.size(), flex);
        for (ApiVersion v : apiKeys) {
            w.writeInt16(v.apiKey).writeInt16(v.minVersion).writeInt16(v.maxVersion);
            w.writeTaggedFieldsIf(flex, v.taggedFields);
        }
        if (version >= 1) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
