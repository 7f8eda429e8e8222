package io.idemlog.testkit;

import java.util.Random;

/**
 * The fault decisions of one proxied connection: a {@link Random} seeded from the proxy's seed and the connection's
 * index (in accept order), so that the same seed and the same traffic give the same decisions.
 *
 * <p>Every request in scope consumes exactly two draws, whatever is decided and whether faults are enabled: the
 * n-th request of a connection always meets the same fate under a given seed.
 *
 * <p>Confined to the connection's event loop thread.
 */
final class FaultPlan {
    /** One request's fate: a fault (or null) and, for a reset mid-request, where in the frame to cut. */
    record Decision(FaultKind fault, double cut) {
        /** Bytes of a frame of {@code frameLength} bytes to forward before the reset: at least 1, never all. */
        int prefixLength(int frameLength) {
            return 1 + (int) Math.min(frameLength - 2L, (long) (cut * (frameLength - 1)));
        }
    }

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final FaultConfig config;
    private final Random random;

    FaultPlan(FaultConfig config, int connectionIndex) {
        this.config = config;
        this.random = new Random(connectionSeed(config.seed(), connectionIndex));
    }

    /** SplitMix64 of the seed and the index: neighbouring indexes get unrelated streams. */
    static long connectionSeed(long seed, int connectionIndex) {
        long z = seed + (connectionIndex + 1L) * GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The fate of the next request in scope. */
    Decision next() {
        double u = random.nextDouble();
        double cut = random.nextDouble();
        double cumulative = 0.0;
        for (FaultKind kind : FaultKind.values()) {
            cumulative += config.rate(kind);
            if (u < cumulative) {
                return new Decision(kind, cut);
            }
        }
        return new Decision(null, cut);
    }
}
