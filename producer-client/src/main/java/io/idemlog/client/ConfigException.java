package io.idemlog.client;

/** An invalid configuration, rejected when the {@link ProducerConfig} is built; the message names the option. */
public final class ConfigException extends ProducerException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
