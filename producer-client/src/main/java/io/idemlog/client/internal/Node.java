package io.idemlog.client.internal;

/**
 * A server the producer can connect to. Bootstrap addresses get negative ids (-1, -2, ...) until metadata names
 * the real nodes, as in kafka-clients.
 */
public record Node(int id, String host, int port) {
    @Override
    public String toString() {
        return "node " + id + " (" + host + ":" + port + ")";
    }
}
