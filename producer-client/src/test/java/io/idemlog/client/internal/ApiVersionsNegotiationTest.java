package io.idemlog.client.internal;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The ApiVersions exchange against frames captured from a real broker and a version-capping proxy. */
class ApiVersionsNegotiationTest {
    private static ByteBuffer body(String resource) throws IOException {
        try (InputStream in = ApiVersionsNegotiationTest.class.getResourceAsStream("/captures/" + resource)) {
            ByteBuffer frame = ByteBuffer.wrap(in.readAllBytes());
            WireReader r = new WireReader(frame);
            ResponseHeader.read(r, (short) 0); // ApiVersions always answers with header v0
            return frame.duplicate().position(r.position()).slice();
        }
    }

    @Test
    void shouldRetryAtTheVersionNamedInTheV0FormErrorAnswer() throws IOException {
        // The proxy's answer to a too-new ApiVersions: error 35 in v0 form, {18, 0, 2}.
        ApiVersionsResponse r = ApiVersionsNegotiation.parse(body("rsp-local-k18-v4-1.bin"), (short) 3);
        assertEquals(35, r.errorCode);
        ApiVersionsNegotiation.Outcome o = ApiVersionsNegotiation.onResponse(r, (short) 3);
        assertEquals(new ApiVersionsNegotiation.Retry((short) 2), o);
    }

    @Test
    void shouldPickTheHighestCommonVersionOfEachApi() throws IOException {
        ApiVersionsResponse r = ApiVersionsNegotiation.parse(body("rsp-k18-v3-1.bin"), (short) 3);
        ApiVersionsNegotiation.Done d = assertInstanceOf(ApiVersionsNegotiation.Done.class,
            ApiVersionsNegotiation.onResponse(r, (short) 3));
        for (ApiKey k : ApiKey.values()) {
            ApiVersionsResponse.ApiVersion v = r.find(k.id);
            short expected = (short) Math.min(k.maxVersion, v.maxVersion);
            assertEquals(expected, d.version(k), k.name());
        }
    }

    @Test
    void shouldMarkAnApiTheServerLacksOrDoesNotOverlapAsUnsupported() {
        ApiVersionsResponse r = new ApiVersionsResponse();
        r.apiKeys.add(new ApiVersionsResponse.ApiVersion(ApiKey.PRODUCE.id, (short) 0, (short) 2));
        ApiVersionsNegotiation.Done d = assertInstanceOf(ApiVersionsNegotiation.Done.class,
            ApiVersionsNegotiation.onResponse(r, (short) 3));
        assertEquals(-1, d.version(ApiKey.PRODUCE), "Produce below v3 has no RecordBatch v2");
        assertEquals(-1, d.version(ApiKey.METADATA), "not listed");
    }

    @Test
    void shouldFallBackToV0WhenTheErrorEntryIsMissingAndFailOnOtherErrors() {
        ApiVersionsResponse r = new ApiVersionsResponse();
        r.errorCode = 35;
        assertEquals(new ApiVersionsNegotiation.Retry((short) 0), ApiVersionsNegotiation.onResponse(r, (short) 3));
        r.errorCode = 42;
        assertInstanceOf(ApiVersionsNegotiation.Failed.class, ApiVersionsNegotiation.onResponse(r, (short) 3));
    }
}
