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
 * <li>{@link #requestBody}: the first two bytes choose an API of {@link RequestTargets#ALL} ({@link ApiKey#values()},
 * then the group APIs whose codecs exist before their ApiKey constants) and one of its versions, the rest is the
 * body: every API and version is reachable, including APIs added after this test was written.</li>
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

    /** Decodes one body of a {@link RequestTargets.Target} and checks the round trip. */
    static void checkBody(RequestTargets.Target target, short version, WireReader reader) {
        Message decoded;
        try {
            decoded = target.reader().read(reader, version);
        } catch (ProtocolException expected) {
            return;
        }
        byte[] once = encode(decoded, version);
        Message again = target.reader().read(new WireReader(ByteBuffer.wrap(once)), version);
        byte[] twice = encode(again, version);
        if (!Arrays.equals(once, twice)) {
            throw new AssertionError(target.name() + " v" + version + ": re-encoding is not stable");
        }
    }

    @FuzzTest(maxDuration = "10m")
    void requestBody(byte[] input) {
        if (input.length < 2) {
            return;
        }
        RequestTargets.Target target = RequestTargets.ALL.get(Math.floorMod(input[0], RequestTargets.ALL.size()));
        short version = (short) (target.minVersion()
            + Math.floorMod(input[1], target.maxVersion() - target.minVersion() + 1));
        checkBody(target, version, new WireReader(ByteBuffer.wrap(input, 2, input.length - 2).slice()));
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
