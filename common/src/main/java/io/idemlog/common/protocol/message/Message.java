package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireWriter;

/**
 * A request or response body of one of the APIs in {@link ApiKey}. Each implementation also has a static
 * {@code read(WireReader, short version)}; both directions are version-aware, and a field that a version does not
 * carry is skipped on write (it must then hold its default, or the write fails rather than losing data silently).
 */
public interface Message {
    ApiKey apiKey();

    void write(WireWriter writer, short version);
}
