package io.idemlog.testkit;

/** The faults a {@link FaultProxy} injects, each at its own rate (see {@link FaultConfig}). */
public enum FaultKind {
    /**
     * The server's response is swallowed (the acknowledgement is lost) and the connection is reset on both sides:
     * the server did the work, the client cannot know it and must retry.
     */
    DROP_RESPONSE(true),
    /**
     * Only a prefix of the request frame reaches the server, then the connection is reset on both sides: the
     * server must not act on a partial request.
     */
    RESET_MID_REQUEST(false),
    /**
     * The response is held for {@link FaultConfig#delay()} (set it past the client's request.timeout.ms), then
     * delivered if the client is still connected. Responses behind it on the connection wait too: order is kept.
     */
    DELAY_RESPONSE(true),
    /**
     * The request frame is sent to the server twice in a row; the second response is swallowed, so the client sees
     * one. The server must recognise the copy (for an idempotent producer: the same sequence numbers).
     */
    DUPLICATE_REQUEST(false);

    private final boolean needsResponse;

    FaultKind(boolean needsResponse) {
        this.needsResponse = needsResponse;
    }

    /** Whether the fault acts on the response, and so cannot apply to a request that gets none (acks=0). */
    public boolean needsResponse() {
        return needsResponse;
    }
}
