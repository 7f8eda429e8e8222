package io.idemlog.server.network;

import io.idemlog.common.protocol.WireReader;

/**
 * Handles one API. Called on the connection's event-loop thread, in request arrival order; must answer through
 * the context exactly once (now or later, from any thread), or call {@link RequestContext#noResponse()}.
 * Malformed input is reported by throwing {@link io.idemlog.common.protocol.ProtocolException}: the connection
 * is then closed.
 */
@FunctionalInterface
public interface ApiHandler {
    void handle(RequestContext ctx, WireReader body);
}
