package io.idemlog.server.state;

/** For fuzz targets outside this package: the input-to-snapshot mapping of {@link SnapshotLoadFuzzTest}. */
public final class SnapshotLoadFuzzTestSupport {
    private SnapshotLoadFuzzTestSupport() {
    }

    /** input[1..] as snapshot file bytes, its CRC trailer repaired when input[0] is odd. */
    public static byte[] withCrc(byte[] input) {
        return SnapshotLoadFuzzTest.withCrc(input);
    }
}
