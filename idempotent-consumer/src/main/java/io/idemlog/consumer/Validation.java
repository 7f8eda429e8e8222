package io.idemlog.consumer;

/** Argument checks every store applies, so that all of them refuse the same input the same way. */
final class Validation {
    /** Longest scope (the JDBC column is VARCHAR(255)). */
    static final int MAX_SCOPE_CHARS = 255;

    private Validation() {
    }

    static void check(String scope, byte[] id) {
        if (scope == null || scope.isEmpty() || scope.length() > MAX_SCOPE_CHARS) {
            throw new IllegalArgumentException("scope must have 1 to " + MAX_SCOPE_CHARS + " characters: " + scope);
        }
        if (id == null || id.length == 0 || id.length > KeyExtractor.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("id must have 1 to " + KeyExtractor.MAX_KEY_BYTES + " bytes, has "
                + (id == null ? "null" : id.length));
        }
    }
}
