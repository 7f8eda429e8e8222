package io.idemlog.common.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogSafeTest {
    @Test
    void shouldReturnAPlainStringUnchanged() {
        String s = "producer-1.example_com";
        assertSame(s, LogSafe.string(s));
        assertEquals("null", LogSafe.string(null));
    }

    @Test
    void shouldEscapeLineBreaksSoThatAClientCannotForgeALogLine() {
        String forged = "x\n2026-01-01 00:00:00 ERROR [main] fake entry\r";
        String safe = LogSafe.string(forged);
        assertFalse(safe.contains("\n") || safe.contains("\r"), safe);
        assertEquals("x\\u000a2026-01-01 00:00:00 ERROR [main] fake entry\\u000d", safe);
    }

    @Test
    void shouldEscapeTerminalEscapesBidiControlsSeparatorsLoneSurrogatesAndBackslashes() {
        assertEquals("\\u001b[31mred", LogSafe.string("\u001b[31mred"));
        assertEquals("a\\u202eb", LogSafe.string("a\u202eb"));
        assertEquals("a\\u2028b", LogSafe.string("a\u2028b"));
        assertEquals("a\\ud800b", LogSafe.string("a\ud800b"));
        assertEquals("a\\\\u000ab", LogSafe.string("a\\u000ab"), "an escaped-looking input stays distinguishable");
        assertEquals("\ud83d\ude00", LogSafe.string("\ud83d\ude00"), "a valid pair is kept");
    }

    @Test
    void shouldCutAVeryLongString() {
        String safe = LogSafe.string("a".repeat(40_000));
        assertTrue(safe.length() < LogSafe.MAX_CHARS + 40, safe.length() + " chars");
        assertTrue(safe.endsWith("...(" + (40_000 - LogSafe.MAX_CHARS) + " more chars)"), safe);
    }
}
