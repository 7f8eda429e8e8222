package io.idemlog.common.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.Messages;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The request side of the codec under fuzzing. Two targets:
 * <ul>
 * <li>{@link #requestFrame}: a whole frame as the server reads it (header, then the body of the API and version the
 * header names), seeded with every request frame captured from real clients;</li>
 * <li>{@link #requestBody}: the first two bytes choose an API of {@link ApiKey#values()} and one of its versions,
 * the rest is the body: every API and version is reachable, including APIs added after this test was written.</li>
 * </ul>
 * Invariants: decoding ends in a message or a ProtocolException (never another exception, never an allocation that
 * the input's size does not justify); a decoded message re-encodes, and decoding that encoding and encoding again
 * gives the same bytes (the codec is a fixed point after one round).
 */
class RequestDecoderFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void requestFrame(byte[] frame) {
        WireReader reader = new WireReader(ByteBuffer.wrap(frame));
        RequestHeader header;
        try {
            header = RequestHeader.read(reader);
        } catch (ProtocolException expected) {
            return;
        }
        ApiKey api = header.api();
        if (api == null || !api.isVersionSupported(header.apiVersion)) {
            return;
        }
        checkBody(api, header.apiVersion, reader);
    }

    @FuzzTest(maxDuration = "10m")
    void requestBody(byte[] input) {
        if (input.length < 2) {
            return;
        }
        ApiKey[] apis = ApiKey.values();
        ApiKey api = apis[Math.floorMod(input[0], apis.length)];
        short version = (short) (api.minVersion + Math.floorMod(input[1], api.maxVersion - api.minVersion + 1));
        checkBody(api, version, new WireReader(ByteBuffer.wrap(input, 2, input.length - 2).slice()));
    }

    /** Decodes one body and checks the round trip; shared with {@link RequestCorpusTest}. */
    static void checkBody(ApiKey api, short version, WireReader reader) {
        Message decoded;
        try {
            decoded = Messages.readRequest(api, reader, version);
        } catch (ProtocolException expected) {
            return;
        }
        byte[] once = encode(decoded, version);
        Message again = Messages.readRequest(api, new WireReader(ByteBuffer.wrap(once)), version);
        byte[] twice = encode(again, version);
        if (!Arrays.equals(once, twice)) {
            throw new AssertionError(api + " v" + version + ": re-encoding is not stable");
        }
    }

    private static byte[] encode(Message m, short version) {
        WireWriter w = new WireWriter(64);
        m.write(w, version);
        ByteBuffer b = w.toFlatBuffer();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }
}
