package io.idemlog.common.fuzz;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deterministic companion of {@link RequestDecoderFuzzTest}: every body of the committed corpus, whole, truncated at
 * every length and with seeded byte flips, decoded as EVERY version of EVERY API in {@link RequestTargets#ALL}
 * ({@link ApiKey} and the group codecs that precede their ApiKey constants; an API added to ApiKey is covered
 * without touching this test). Each decode must end in a message or a ProtocolException.
 */
class RequestCorpusTest {
    private static final long SEED = Long.getLong("idemlog.seed", 8L);

    private static List<byte[]> bodies() throws IOException, URISyntaxException {
        Path dir = Paths.get(RequestCorpusTest.class.getResource("RequestDecoderFuzzTestInputs/requestBody").toURI());
        List<byte[]> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                byte[] seed = Files.readAllBytes(p);
                byte[] body = new byte[seed.length - 2];
                System.arraycopy(seed, 2, body, 0, body.length);
                out.add(body);
            }
        }
        return out;
    }

    @Test
    void everyApiAndVersionDecodesEveryCorpusBodyOrRefusesIt() throws Exception {
        List<byte[]> bodies = bodies();
        assertTrue(bodies.size() >= 40, "corpus present: " + bodies.size());
        Random random = new Random(SEED);
        int decodes = 0;
        for (byte[] body : bodies) {
            for (RequestTargets.Target api : RequestTargets.ALL) {
                for (short v = api.minVersion(); v <= api.maxVersion(); v++) {
                    try {
                        decodes += decodeVariants(api, v, body, random);
                    } catch (RuntimeException | AssertionError e) {
                        throw new AssertionError(api.name() + " v" + v + " (seed " + SEED + ")", e);
                    }
                }
            }
        }
        assertTrue(decodes > 10_000, decodes + " decodes");
    }

    private static int decodeVariants(RequestTargets.Target api, short version, byte[] body, Random random) {
        int n = 0;
        for (int cut = 0; cut <= body.length; cut += Math.max(1, body.length / 16)) {
            RequestDecoderFuzzTest.checkBody(api, version, new WireReader(ByteBuffer.wrap(body, 0, cut).slice()));
            n++;
        }
        for (int i = 0; i < 4 && body.length > 0; i++) {
            byte[] flipped = body.clone();
            flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
            RequestDecoderFuzzTest.checkBody(api, version, new WireReader(ByteBuffer.wrap(flipped)));
            n++;
        }
        return n;
    }
}
