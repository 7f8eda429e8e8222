package io.idemlog.testkit;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link FaultProxy} injects: a rate per {@link FaultKind} (the probability that a request in scope suffers
 * that fault; the kinds exclude each other, so the rates add up to at most 1), how long a delayed response is held,
 * which requests are in scope, and the seed of the random decisions. Immutable.
 */
public final class FaultConfig {
    private final long seed;
    private final Map<FaultKind, Double> rates;
    private final Duration delay;
    private final FaultScope scope;

    private FaultConfig(Builder b) {
        this.seed = b.seed;
        this.rates = new EnumMap<>(b.rates);
        this.delay = b.delay;
        this.scope = b.scope;
    }

    /** A builder with every rate 0, a 1.5 s delay and {@link FaultScope#PRODUCE}. */
    public static Builder builder(long seed) {
        return new Builder(seed);
    }

    /** No faults at all: the proxy only forwards (and rewrites broker addresses). */
    public static FaultConfig none() {
        return builder(0L).build();
    }

    /** Seed of the per-connection random decisions. */
    public long seed() {
        return seed;
    }

    /** Probability that a request in scope suffers {@code kind}. */
    public double rate(FaultKind kind) {
        return rates.getOrDefault(kind, 0.0);
    }

    /** Probability that a request in scope suffers some fault. */
    public double totalRate() {
        double sum = 0;
        for (double r : rates.values()) {
            sum += r;
        }
        return sum;
    }

    /** How long a {@link FaultKind#DELAY_RESPONSE delayed} response is held. */
    public Duration delay() {
        return delay;
    }

    /** Which requests may suffer faults. */
    public FaultScope scope() {
        return scope;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("seed=").append(seed).append(" scope=").append(scope);
        for (FaultKind kind : FaultKind.values()) {
            sb.append(' ').append(kind.name().toLowerCase(java.util.Locale.ROOT)).append('=')
                .append(String.format(java.util.Locale.ROOT, "%.3f%%", rate(kind) * 100));
        }
        return sb.append(" delay=").append(delay.toMillis()).append("ms").toString();
    }

    /** Builds a {@link FaultConfig}. */
    public static final class Builder {
        private final long seed;
        private final Map<FaultKind, Double> rates = new EnumMap<>(FaultKind.class);
        private Duration delay = Duration.ofMillis(1500);
        private FaultScope scope = FaultScope.PRODUCE;

        private Builder(long seed) {
            this.seed = seed;
        }

        /** The probability, in [0, 1], that a request in scope suffers {@code kind}. */
        public Builder rate(FaultKind kind, double probability) {
            if (!(probability >= 0.0 && probability <= 1.0)) {
                throw new IllegalArgumentException(kind + " rate " + probability + " is not in [0, 1]");
            }
            rates.put(Objects.requireNonNull(kind, "kind"), probability);
            return this;
        }

        /** Every kind at {@code totalProbability / 4}: a request in scope suffers some fault with that probability. */
        public Builder mixed(double totalProbability) {
            for (FaultKind kind : FaultKind.values()) {
                rate(kind, totalProbability / FaultKind.values().length);
            }
            return this;
        }

        /** How long a delayed response is held (default 1.5 s); make it longer than the client's request timeout. */
        public Builder delay(Duration delay) {
            if (delay.isNegative()) {
                throw new IllegalArgumentException("negative delay " + delay);
            }
            this.delay = delay;
            return this;
        }

        /** Which requests may suffer faults (default {@link FaultScope#PRODUCE}). */
        public Builder scope(FaultScope scope) {
            this.scope = Objects.requireNonNull(scope, "scope");
            return this;
        }

        /** Checks that the rates add up to at most 1. */
        public FaultConfig build() {
            FaultConfig config = new FaultConfig(this);
            if (config.totalRate() > 1.0 + 1e-9) {
                throw new IllegalArgumentException("fault rates add up to " + config.totalRate() + " > 1");
            }
            return config;
        }
    }
}
