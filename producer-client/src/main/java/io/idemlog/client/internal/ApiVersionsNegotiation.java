package io.idemlog.client.internal;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ApiVersionsResponse;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The ApiVersions exchange that opens every connection, as kafka-clients does it: ask at v3; a server that does
 * not know v3 answers error UNSUPPORTED_VERSION in the v0 form, naming its highest ApiVersions version, and the
 * client asks again at that version. On success, each API's version is the highest in both the server's and
 * idemlog's ({@link ApiKey}) ranges, or -1 when they do not overlap (or the server does not list the API).
 *
 * <p>Pure logic over decoded bytes; the transport sends and receives.
 */
public final class ApiVersionsNegotiation {
    /** The version the client asks at first (the highest idemlog implements). */
    public static final short FIRST_VERSION = ApiKey.API_VERSIONS.maxVersion;

    /** Outcome of one answer. */
    public sealed interface Outcome permits Retry, Done, Failed {
    }

    /** Ask again at {@code version}. */
    public record Retry(short version) implements Outcome {
    }

    /** Negotiated: {@code versions[apiKey.ordinal()]} is the version to use, or -1. */
    public record Done(short[] versions) implements Outcome {
        public short version(ApiKey api) {
            return versions[api.ordinal()];
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("Done(");
            for (ApiKey k : ApiKey.values()) {
                sb.append(k).append('=').append(versions[k.ordinal()]).append(' ');
            }
            return sb.append(')').toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Done d && Arrays.equals(d.versions, versions);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(versions);
        }
    }

    /** The server refused; close the connection. */
    public record Failed(String reason) implements Outcome {
    }

    private ApiVersionsNegotiation() {
    }

    /**
     * Decodes the body of an ApiVersions answer to a request sent at {@code sentVersion}. A server that does not
     * know that version answers in the v0 form, so when the body does not parse at the sent version it is parsed
     * again as v0 (as kafka-clients' ApiVersionsResponse.parse does).
     */
    public static ApiVersionsResponse parse(ByteBuffer body, short sentVersion) {
        try {
            WireReader r = new WireReader(body.duplicate());
            ApiVersionsResponse rsp = ApiVersionsResponse.read(r, sentVersion);
            r.expectEnd();
            return rsp;
        } catch (ProtocolException e) {
            if (sentVersion == 0) {
                throw e;
            }
            WireReader r = new WireReader(body.duplicate());
            return ApiVersionsResponse.read(r, (short) 0);
        }
    }

    /** What to do with an answer to a request sent at {@code sentVersion}. */
    public static Outcome onResponse(ApiVersionsResponse rsp, short sentVersion) {
        if (rsp.errorCode == ErrorCode.UNSUPPORTED_VERSION.code) {
            if (sentVersion == 0) {
                return new Failed("the server does not support ApiVersions v0");
            }
            ApiVersionsResponse.ApiVersion own = rsp.find(ApiKey.API_VERSIONS.id);
            short retry = own == null ? 0 : (short) Math.min(own.maxVersion, sentVersion - 1);
            return new Retry((short) Math.max(0, retry));
        }
        if (rsp.errorCode != 0) {
            return new Failed("ApiVersions failed with error " + rsp.errorCode + " ("
                + ErrorCode.forCode(rsp.errorCode) + ")");
        }
        short[] versions = new short[ApiKey.values().length];
        for (ApiKey k : ApiKey.values()) {
            ApiVersionsResponse.ApiVersion v = rsp.find(k.id);
            versions[k.ordinal()] = v == null ? -1 : pick(k, v.minVersion, v.maxVersion);
        }
        return new Done(versions);
    }

    /** The highest version in both ranges, or -1. */
    static short pick(ApiKey api, short serverMin, short serverMax) {
        short hi = (short) Math.min(api.maxVersion, serverMax);
        short lo = (short) Math.max(api.minVersion, serverMin);
        return hi >= lo ? hi : -1;
    }
}
