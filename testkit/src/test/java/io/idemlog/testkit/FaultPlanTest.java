package io.idemlog.testkit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultPlanTest {
    private static final FaultConfig TEN_PERCENT = FaultConfig.builder(42L).mixed(0.10).build();

    private static List<FaultKind> decisions(FaultConfig config, int connection, int n) {
        FaultPlan plan = new FaultPlan(config, connection);
        List<FaultKind> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(plan.next().fault());
        }
        return out;
    }

    @Test
    void shouldMakeTheSameDecisionsForTheSameSeedAndConnectionIndex() {
        assertEquals(decisions(TEN_PERCENT, 3, 5_000), decisions(TEN_PERCENT, 3, 5_000));
    }

    @Test
    void shouldMakeOtherDecisionsOnAnotherConnectionOrWithAnotherSeed() {
        assertNotEquals(decisions(TEN_PERCENT, 3, 5_000), decisions(TEN_PERCENT, 4, 5_000));
        FaultConfig otherSeed = FaultConfig.builder(43L).mixed(0.10).build();
        assertNotEquals(decisions(TEN_PERCENT, 3, 5_000), decisions(otherSeed, 3, 5_000));
    }

    @Test
    void shouldInjectEachKindAtItsOwnRate() {
        FaultConfig config = FaultConfig.builder(7L)
            .rate(FaultKind.DROP_RESPONSE, 0.01)
            .rate(FaultKind.RESET_MID_REQUEST, 0.02)
            .rate(FaultKind.DELAY_RESPONSE, 0.03)
            .rate(FaultKind.DUPLICATE_REQUEST, 0.04)
            .build();
        int n = 200_000;
        Map<FaultKind, Integer> seen = new EnumMap<>(FaultKind.class);
        for (FaultKind kind : decisions(config, 0, n)) {
            if (kind != null) {
                seen.merge(kind, 1, Integer::sum);
            }
        }
        for (FaultKind kind : FaultKind.values()) {
            double expected = config.rate(kind) * n;
            double actual = seen.getOrDefault(kind, 0);
            assertTrue(Math.abs(actual - expected) < expected * 0.1, kind + ": " + actual + " vs " + expected);
        }
    }

    @Test
    void shouldNeverInjectAnythingAtRateZero() {
        assertTrue(decisions(FaultConfig.none(), 0, 10_000).stream().allMatch(k -> k == null));
    }

    @Test
    void shouldCutAResetRequestAfterAtLeastOneByteAndBeforeItsEnd() {
        FaultPlan plan = new FaultPlan(TEN_PERCENT, 0);
        for (int i = 0; i < 10_000; i++) {
            FaultPlan.Decision d = plan.next();
            int length = 2 + (i % 300);
            int prefix = d.prefixLength(length);
            assertTrue(prefix >= 1 && prefix < length, prefix + " of " + length);
        }
        assertEquals(1, new FaultPlan.Decision(FaultKind.RESET_MID_REQUEST, 0.0).prefixLength(100));
        assertEquals(99, new FaultPlan.Decision(FaultKind.RESET_MID_REQUEST, 0.9999999).prefixLength(100));
    }

    @Test
    void shouldRefuseRatesThatAddUpToMoreThanOne() {
        FaultConfig.Builder builder = FaultConfig.builder(1L).rate(FaultKind.DROP_RESPONSE, 0.6)
            .rate(FaultKind.DUPLICATE_REQUEST, 0.6);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, builder::build);
    }
}
