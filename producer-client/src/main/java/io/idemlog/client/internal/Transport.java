package io.idemlog.client.internal;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.Message;

/**
 * The sender's view of the network: one connection per node, requests answered in the order sent. The Netty
 * implementation negotiates ApiVersions on each new connection before reporting it ready; tests use a fake that
 * the test answers by hand. Every method is called from the I/O thread only.
 */
public interface Transport {
    /**
     * Whether requests can be sent to the node now (connected and versions negotiated). When there is no
     * connection and no reconnect backoff is pending, starts connecting. When it returns false the caller need not
     * poll: the transport wakes the sender when the connection becomes ready, fails, or its backoff ends.
     */
    boolean ready(Node node, long nowMs);

    /** Whether the node's connection is ready now; unlike {@link #ready} it never starts connecting. */
    boolean isReady(int nodeId);

    /** True while the node's last connection attempt failed recently and the transport waits before retrying. */
    boolean isBackingOff(int nodeId, long nowMs);

    /**
     * The version to use for an API with a ready node: the highest in both the node's and idemlog's ranges, or -1
     * when there is none.
     */
    short apiVersion(int nodeId, ApiKey api);

    /**
     * Sends a request to a ready node and returns its correlation id. When {@code expectResponse}, the answer
     * comes back through {@link #poll}, in send order per node.
     */
    int send(int nodeId, ApiKey api, short version, Message body, boolean expectResponse, long nowMs);

    /**
     * Closes the node's connection. Nothing more is reported for it through {@link #poll} (not even answers that
     * had already arrived): the caller settles the requests it had in flight itself.
     */
    void disconnect(int nodeId);

    /** Reports every event since the last call, in arrival order. */
    void poll(Listener listener, long nowMs);

    /** Closes every connection. */
    void close();

    /** Receives what the network reports. */
    interface Listener {
        /** The answer to the request {@code correlationId} sent to the node. */
        void onResponse(int nodeId, int correlationId, Message body, long nowMs);

        /**
         * The answer to the request {@code correlationId} will never come, though the connection lives on: a later
         * request's answer came first (answers come in request order). Reported in order, before that later answer.
         */
        void onAnswerLost(int nodeId, int correlationId, long nowMs);

        /**
         * The connection closed, or could not be set up: requests in flight on it will never be answered.
         *
         * @param reason for logs
         */
        void onDisconnected(int nodeId, String reason, long nowMs);
    }
}
