package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.WireReader;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every version of every {@link GroupApis} API, both directions: a populated message encodes, decodes with nothing
 * left over and re-encodes to the same bytes; every truncation of it is refused with a {@link ProtocolException};
 * and the decoders dispatched through {@link GroupApis} are the ones of the message classes.
 */
class GroupCodecsRoundTripTest {

    private static void roundTrip(GroupApis.Api api, short v, Message sample, GroupApis.Reader reader) {
        byte[] once = CodecOracle.ours(sample, v);
        WireReader r = new WireReader(ByteBuffer.wrap(once));
        Message decoded = reader.read(r, v);
        assertFalse(r.hasRemaining(), "undecoded bytes");
        assertEquals(sample.getClass(), decoded.getClass());
        assertArrayEquals(once, CodecOracle.ours(decoded, v), api.name() + " v" + v + " re-encoding");
        for (int cut = 0; cut < once.length; cut++) {
            WireReader truncated = new WireReader(ByteBuffer.wrap(once, 0, cut).slice());
            int len = cut;
            assertThrows(ProtocolException.class, () -> reader.read(truncated, v), () -> "truncated to " + len);
        }
    }

    @TestFactory
    List<DynamicTest> everyVersionOfEveryGroupApi() {
        List<DynamicTest> tests = new ArrayList<>();
        for (GroupApis.Api api : GroupApis.ALL) {
            for (short v = api.minVersion(); v <= api.maxVersion(); v++) {
                short version = v;
                tests.add(DynamicTest.dynamicTest(api.name() + " request v" + v,
                    () -> roundTrip(api, version, GroupSamples.request(api, version), api.request())));
                tests.add(DynamicTest.dynamicTest(api.name() + " response v" + v,
                    () -> roundTrip(api, version, GroupSamples.response(api, version), api.response())));
            }
        }
        return tests;
    }

    @Test
    void tableIsInIdOrderWithoutDuplicatesAndFindsEachApi() {
        int last = -1;
        for (GroupApis.Api api : GroupApis.ALL) {
            assertEquals(api, GroupApis.forId(api.id()));
            assertEquals(true, api.id() > last, "id order");
            last = api.id();
            assertEquals(api.name(), io.idemlog.common.protocol.KafkaApiNames.name(api.id()));
        }
        assertNull(GroupApis.forId(0));
    }

    /** Once an API has its ApiKey constant (added with its handler), the constant must carry the codec's range. */
    @Test
    void apiKeyConstantsOfGroupApisCarryTheCodecRanges() {
        for (GroupApis.Api api : GroupApis.ALL) {
            io.idemlog.common.protocol.ApiKey key = api.apiKey();
            if (key != null) {
                assertEquals(api.name(), key.name());
                assertEquals(api.minVersion(), key.minVersion, api.name() + " min");
                assertEquals(api.maxVersion(), key.maxVersion, api.name() + " max");
                assertEquals(api.firstFlexibleVersion(), key.firstFlexibleVersion, api.name() + " first flexible");
            }
        }
    }

    private static byte[] hex(String s) {
        String h = s.replace(" ", "");
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    /**
     * The versions kafka-clients 4.1 no longer has (so {@link GroupCodecsOracleTest} cannot cover them), against
     * frames written by hand from the 3.9 schema: OffsetCommit v0 (no generation/member) and v1 (generation,
     * member, per-partition commit timestamp), OffsetFetch v0/v1 (topics not nullable).
     */
    @Test
    void offsetCommitV0AndV1MatchHandWrittenFrames() {
        OffsetCommitRequest v0 = (OffsetCommitRequest) GroupSamples.request(GroupApis.OFFSET_COMMIT, (short) 0);
        // group "g1" | 1 topic "orders" | 2 partitions: (0, 1234, "m"), (7, 55, null)
        assertArrayEquals(hex("0002 6731 00000001 0006 6f7264657273 00000002"
            + "00000000 00000000000004d2 0001 6d"
            + "00000007 0000000000000037 ffff"), CodecOracle.ours(v0, (short) 0));
        OffsetCommitRequest v1 = (OffsetCommitRequest) GroupSamples.request(GroupApis.OFFSET_COMMIT, (short) 1);
        // group "g1", generation 5, member "m-1" | topic | (0, 1234, ts 1700000000000, "m"), (7, 55, ts -1, null)
        assertArrayEquals(hex("0002 6731 00000005 0003 6d2d31 00000001 0006 6f7264657273 00000002"
            + "00000000 00000000000004d2 0000018bcfe56800 0001 6d"
            + "00000007 0000000000000037 ffffffffffffffff ffff"), CodecOracle.ours(v1, (short) 1));
        OffsetCommitRequest back = OffsetCommitRequest.read(
            new WireReader(ByteBuffer.wrap(CodecOracle.ours(v1, (short) 1))), (short) 1);
        assertEquals(1_700_000_000_000L, back.topics.get(0).partitions.get(0).commitTimestamp);
        assertEquals(5, back.generationIdOrMemberEpoch);
    }

    @Test
    void offsetFetchV0AndV1RefuseNullTopicsWhichOnlyV2CanExpress() {
        // group "g1", topics = null (-1)
        byte[] frame = hex("0002 6731 ffffffff");
        for (short v = 0; v <= 1; v++) {
            short version = v;
            assertThrows(ProtocolException.class,
                () -> OffsetFetchRequest.read(new WireReader(ByteBuffer.wrap(frame)), version));
        }
        OffsetFetchRequest all = OffsetFetchRequest.read(new WireReader(ByteBuffer.wrap(frame)), (short) 2);
        assertNull(all.groups((short) 2).get(0).topics);
        OffsetFetchResponse v0 = (OffsetFetchResponse) GroupSamples.response(GroupApis.OFFSET_FETCH, (short) 0);
        // 1 topic "orders", partitions (0, 99, "meta", 0), (1, -1, null, 3); no top-level error code in v0
        assertArrayEquals(hex("00000001 0006 6f7264657273 00000002"
            + "00000000 0000000000000063 0004 6d657461 0000"
            + "00000001 ffffffffffffffff ffff 0003"), CodecOracle.ours(v0, (short) 0));
    }
}
