package io.idemlog.common.protocol;

/**
 * Makes a string that came from the wire (client id, topic name, transactional id, software name, ...) safe to put
 * in a log line: a client must not be able to forge log lines (a newline followed by a fake entry), hide text
 * (carriage returns, terminal escapes, bidirectional overrides) or flood the log (a 32 KiB client id).
 *
 * <p>Control characters (C0, DEL, C1), the Unicode line and paragraph separators, the bidirectional controls and
 * lone surrogates are written as {@code \\uXXXX}; a backslash becomes {@code \\\\}, so that the escaped form is
 * unambiguous. Longer strings are cut at {@link #MAX_CHARS} characters and say how many were left out. Plain
 * printable strings (the common case) are returned as they are, without copying.
 */
public final class LogSafe {
    /** Characters of a wire string kept in a log line. */
    public static final int MAX_CHARS = 256;

    private LogSafe() {
    }

    /** The escaped form of {@code s} ("null" for null). */
    public static String string(String s) {
        if (s == null) {
            return "null";
        }
        int n = Math.min(s.length(), MAX_CHARS);
        int i = 0;
        while (i < n && !needsEscape(s, i)) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(n + 16);
        sb.append(s, 0, i);
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                sb.append("\\\\");
            } else if (needsEscape(s, i)) {
                sb.append("\\u");
                String hex = Integer.toHexString(c);
                for (int pad = hex.length(); pad < 4; pad++) {
                    sb.append('0');
                }
                sb.append(hex);
            } else {
                sb.append(c);
            }
        }
        if (s.length() > n) {
            sb.append("...(").append(s.length() - n).append(" more chars)");
        }
        return sb.toString();
    }

    private static boolean needsEscape(String s, int i) {
        char c = s.charAt(i);
        if (c == '\\' || c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            return true;
        }
        if (c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
            || c == '\u200e' || c == '\u200f' || c == '\u061c') {
            return true;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }
}
