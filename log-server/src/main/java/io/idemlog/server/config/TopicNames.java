package io.idemlog.server.config;

/** Kafka's topic name rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
public final class TopicNames {
    public static final String RULE = "(1-249 characters of a-z A-Z 0-9 . _ -, not '.' or '..')";
    public static final int MAX_LENGTH = 249;

    private TopicNames() {
    }

    public static boolean isValid(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH || name.equals(".") || name.equals("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                || c == '_' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
