package io.idemlog.server.config;

/** A property that is unknown, malformed or out of range; the server refuses to start with it. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
