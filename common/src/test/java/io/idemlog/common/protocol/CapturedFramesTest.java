package io.idemlog.common.protocol;

import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.MemoryRecordsAssert;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.Messages;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden vectors: real frames captured between kafka-clients 3.9/4.x or librdkafka and real brokers (or the capture
 * proxy), without their 4-byte size prefix. Every frame of a supported API and version must decode completely and
 * re-encode to the very same bytes.
 */
class CapturedFramesTest {
    private static final Pattern NAME = Pattern.compile("(req|rsp)(-local|-rewritten)?-k(\\d+)-v(\\d+)-\\d+\\.bin");

    static Path capturesDir() {
        try {
            return Paths.get(CapturedFramesTest.class.getResource("/kafka-wire/captures").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Path> captures() {
        try (Stream<Path> files = Files.walk(capturesDir())) {
            List<Path> list = new ArrayList<>(files.filter(p -> p.toString().endsWith(".bin")).sorted().toList());
            assertTrue(list.size() >= 100, "expected the whole capture set, found " + list.size());
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(String relative) {
        return bytes(capturesDir().resolve(relative));
    }

    @TestFactory
    Stream<DynamicTest> everyCapturedFrameDecodesAndReencodesToTheSameBytes() {
        return captures().stream().map(p -> DynamicTest.dynamicTest(capturesDir().relativize(p).toString(), () -> {
            Matcher m = NAME.matcher(p.getFileName().toString());
            assertTrue(m.matches(), p.toString());
            boolean request = m.group(1).equals("req");
            String kind = m.group(2);
            ApiKey api = ApiKey.forId(Integer.parseInt(m.group(3)));
            short version = Short.parseShort(m.group(4));
            assertNotNull(api);
            byte[] frame = bytes(p);
            if (request) {
                checkRequest(api, version, frame);
            } else {
                // The proxy's answer to a too-new ApiVersions request is in v0 form, as Kafka does it.
                short bodyVersion = "-local".equals(kind) ? 0 : version;
                checkResponse(api, bodyVersion, frame);
            }
        }));
    }

    private static void checkRequest(ApiKey api, short version, byte[] frame) {
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        RequestHeader header = RequestHeader.read(r);
        assertEquals(api.id, header.apiKey);
        assertEquals(version, header.apiVersion);
        if (!api.isVersionSupported(version)) {
            // Only ApiVersions may arrive with a version we do not implement; we answer it without a body decode.
            assertEquals(ApiKey.API_VERSIONS, api);
            assertTrue(version > api.maxVersion);
            return;
        }
        Message body = Messages.readRequest(api, r, version);
        assertFalse(r.hasRemaining(), "undecoded bytes");
        WireWriter w = new WireWriter();
        header.write(w);
        body.write(w, version);
        assertArrayEquals(frame, flat(w), () -> "re-encoded " + api + " v" + version);
    }

    private static void checkResponse(ApiKey api, short version, byte[] frame) {
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        short headerVersion = api.responseHeaderVersion(version);
        int correlationId = ResponseHeader.read(r, headerVersion);
        Message body = Messages.readResponse(api, r, version);
        assertFalse(r.hasRemaining(), "undecoded bytes");
        WireWriter w = new WireWriter();
        ResponseHeader.write(w, correlationId, headerVersion);
        body.write(w, version);
        assertArrayEquals(frame, flat(w), () -> "re-encoded " + api + " v" + version);
    }

    static byte[] flat(WireWriter w) {
        ByteBuffer b = w.toFlatBuffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void produceV8RequestCarriesTheCapturedBatch() {
        byte[] frame = bytes("nonflex/req-k0-v8-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        RequestHeader h = RequestHeader.read(r);
        assertEquals("producer-1", h.clientId);
        ProduceRequest req = ProduceRequest.read(r, h.apiVersion);
        assertEquals(-1, req.acks);
        assertEquals(30000, req.timeoutMs);
        assertNull(req.transactionalId);
        assertEquals("p1", req.topics.get(0).name);
        ProduceRequest.PartitionData pd = req.topics.get(0).partitions.get(0);
        assertEquals(0, pd.index);
        MemoryRecordsAssert.assertSingleValidBatch(pd.records, 1);
    }

    @Test
    void produceV9RequestUsesCompactEncodings() {
        byte[] frame = bytes("firstflex/req-k0-v9-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        RequestHeader h = RequestHeader.read(r);
        ProduceRequest req = ProduceRequest.read(r, h.apiVersion);
        assertEquals(1, req.partitionCount());
        MemoryRecordsAssert.assertSingleValidBatch(req.topics.get(0).partitions.get(0).records, 1);
    }

    @Test
    void librdkafkaProduceV7RequestCarriesManyRecordsInOneBatch() {
        byte[] frame = bytes("nonflex-kcat/req-k0-v7-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        RequestHeader h = RequestHeader.read(r);
        assertEquals("rdkafka", h.clientId);
        ProduceRequest req = ProduceRequest.read(r, h.apiVersion);
        MemoryRecordsAssert.assertSingleValidBatch(req.topics.get(0).partitions.get(0).records, -1);
    }

    @Test
    void produceV8ResponseHasTheDocumentedFields() {
        byte[] frame = bytes("nonflex/rsp-k0-v8-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        assertEquals(7, ResponseHeader.read(r, (short) 0));
        ProduceResponse rsp = ProduceResponse.read(r, (short) 8);
        ProduceResponse.PartitionResponse p = rsp.topics.get(0).partitions.get(0);
        assertEquals(0, p.errorCode);
        assertEquals(0x9a1d3eL, p.baseOffset);
        assertEquals(-1L, p.logAppendTimeMs);
        assertEquals(0L, p.logStartOffset);
        assertTrue(p.recordErrors.isEmpty());
        assertNull(p.errorMessage);
    }

    @Test
    void initProducerIdV1ResponseGivesProducerIdAndEpoch() {
        byte[] frame = bytes("nonflex/rsp-k22-v1-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        ResponseHeader.read(r, (short) 0);
        InitProducerIdResponse rsp = InitProducerIdResponse.read(r, (short) 1);
        assertEquals(0, rsp.errorCode);
        assertTrue(rsp.producerId >= 0);
        assertEquals(0, rsp.producerEpoch);
    }

    @Test
    void metadataV9RequestFromTheConsumerMayNameATopicTwice() {
        for (Path p : captures()) {
            if (!p.getFileName().toString().startsWith("req-k3-")) {
                continue;
            }
            WireReader r = new WireReader(ByteBuffer.wrap(bytes(p)));
            RequestHeader h = RequestHeader.read(r);
            MetadataRequest req = MetadataRequest.read(r, h.apiVersion);
            assertNotNull(req.topics, p.toString());
        }
    }

    @Test
    void tooNewApiVersionsAnswerIsTheV0ErrorForm() {
        ApiVersionsResponse rsp = new ApiVersionsResponse();
        rsp.errorCode = ErrorCode.UNSUPPORTED_VERSION.code;
        rsp.apiKeys.add(new ApiVersionsResponse.ApiVersion(ApiKey.API_VERSIONS.id, (short) 0, ApiKey.API_VERSIONS.maxVersion));
        WireWriter w = new WireWriter();
        ResponseHeader.write(w, 5, (short) 0);
        rsp.write(w, (short) 0);
        assertArrayEquals(bytes("firstflex/rsp-local-k18-v4-2.bin"), flat(w));
        assertEquals("00000005002300000001001200000003", HexFormat.of().formatHex(flat(w)));
    }

    @Test
    void fetchV12ResponseRecordsAreViewsOfTheFrame() {
        byte[] frame = bytes("firstflex/rsp-k1-v12-1.bin");
        WireReader r = new WireReader(ByteBuffer.wrap(frame));
        ResponseHeader.read(r, (short) 1);
        FetchResponse rsp = FetchResponse.read(r, (short) 12);
        assertEquals(0, rsp.errorCode);
        for (FetchResponse.Topic t : rsp.topics) {
            for (FetchResponse.Partition p : t.partitions) {
                if (p.records != null && p.records.sizeInBytes() > 0) {
                    MemoryRecordsAssert.assertValidBatches(p.records);
                }
            }
        }
    }
}
