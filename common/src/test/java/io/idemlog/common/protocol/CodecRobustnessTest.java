package io.idemlog.common.protocol;

import io.idemlog.common.protocol.message.Messages;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input: every truncation of every captured request and response, and seeded random corruptions, must
 * either decode or fail with {@link ProtocolException} — never another exception, never a huge allocation.
 */
class CodecRobustnessTest {
    private static final Pattern NAME = Pattern.compile("(req|rsp)(-local|-rewritten)?-k(\\d+)-v(\\d+)-\\d+\\.bin");

    private static void decode(boolean request, ApiKey api, short version, byte[] frame, int length) {
        WireReader r = new WireReader().wrap(ByteBuffer.wrap(frame), 0, length);
        if (request) {
            RequestHeader.read(r);
            Messages.readRequest(api, r, version);
        } else {
            ResponseHeader.read(r, api.responseHeaderVersion(version));
            Messages.readResponse(api, r, version);
        }
        r.expectEnd();
    }

    @Test
    void everyTruncationOfEveryCapturedFrameFailsWithAProtocolException() {
        int checked = 0;
        for (Path p : CapturedFramesTest.captures()) {
            Matcher m = NAME.matcher(p.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            boolean request = m.group(1).equals("req");
            ApiKey api = ApiKey.forId(Integer.parseInt(m.group(3)));
            short version = "-local".equals(m.group(2)) ? 0 : Short.parseShort(m.group(4));
            if (!api.isVersionSupported(version)) {
                continue;
            }
            byte[] frame = CapturedFramesTest.bytes(p);
            // Large frames: every length near the start and the end, and a stride through the middle.
            for (int len = 0; len < frame.length; len += len < 256 || len > frame.length - 256 ? 1 : 997) {
                int cut = len;
                assertThrows(ProtocolException.class, () -> decode(request, api, version, frame, cut),
                    () -> p + " truncated to " + cut + " bytes");
                checked++;
            }
        }
        if (checked < 1000) {
            fail("only " + checked + " truncations checked");
        }
    }

    @Test
    void randomCorruptionsEitherDecodeOrFailWithAProtocolException() {
        long seed = 0x1DE417L;
        Random random = new Random(seed);
        for (Path p : CapturedFramesTest.captures()) {
            Matcher m = NAME.matcher(p.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            boolean request = m.group(1).equals("req");
            ApiKey api = ApiKey.forId(Integer.parseInt(m.group(3)));
            short version = "-local".equals(m.group(2)) ? 0 : Short.parseShort(m.group(4));
            if (!api.isVersionSupported(version)) {
                continue;
            }
            byte[] original = CapturedFramesTest.bytes(p);
            for (int i = 0; i < 200; i++) {
                byte[] frame = original.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    // Bias towards the first bytes, where the lengths and counts are.
                    int at = random.nextBoolean() ? random.nextInt(Math.min(64, frame.length))
                        : random.nextInt(frame.length);
                    frame[at] = (byte) random.nextInt(256);
                }
                try {
                    decode(request, api, version, frame, frame.length);
                } catch (ProtocolException expected) {
                    // fine: a clean rejection
                } catch (RuntimeException | OutOfMemoryError e) {
                    throw new AssertionError(p + " corruption #" + i + " (seed " + seed + ") threw " + e, e);
                }
            }
        }
    }
}
