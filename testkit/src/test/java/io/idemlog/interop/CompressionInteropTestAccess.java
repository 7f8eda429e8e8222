package io.idemlog.interop;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The helpers of {@link CompressionInteropTest} for tests in other packages. */
public final class CompressionInteropTestAccess {
    private CompressionInteropTestAccess() {
    }

    public static List<String> values(String label, int n) {
        return CompressionInteropTest.values(label, n);
    }

    public static List<Integer> segmentCodecs(Path partitionDir) throws IOException {
        return CompressionInteropTest.segmentCodecs(partitionDir);
    }

    public static void assertAllStoredAs(int codec, List<Integer> codecs, String what) {
        CompressionInteropTest.assertAllStoredAs(codec, codecs, what);
    }

    public static List<String> consume(String bootstrap, String topic, int expected) {
        return CompressionInteropTest.consume(bootstrap, topic, expected);
    }
}
