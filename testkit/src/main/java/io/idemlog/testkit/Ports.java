package io.idemlog.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Loopback addresses and free ports. */
public final class Ports {
    /** The only address the testkit binds or connects to. */
    public static final String LOOPBACK = "127.0.0.1";

    private Ports() {
    }

    /**
     * A TCP port that was free on 127.0.0.1 a moment ago. The operating system may hand it to someone else before
     * the caller binds it; launchers detect that as a failed start.
     */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + LOOPBACK, e);
        }
    }

    /** 127.0.0.1:{@code port}, resolved. */
    public static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(LOOPBACK, port);
    }
}
