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

    /** The ports handed out lately by this JVM, oldest first (bounded): none is handed out twice meanwhile. */
    private static final java.util.LinkedHashSet<Integer> RECENT = new java.util.LinkedHashSet<>();
    private static final int RECENT_MAX = 4096;

    /**
     * A TCP port that was free on 127.0.0.1 a moment ago and that this JVM has not handed out lately: the kernel
     * may give the same ephemeral port to two calls in a row (a test's three nodes once got a voters list with one
     * port twice). The operating system may still hand it to someone else before the caller binds it; launchers
     * detect that as a failed start.
     */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
                socket.setReuseAddress(true);
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("no free port on " + LOOPBACK, e);
            }
            if (RECENT.add(port)) {
                if (RECENT.size() > RECENT_MAX) {
                    Integer oldest = RECENT.iterator().next();
                    RECENT.remove(oldest);
                }
                return port;
            }
        }
        throw new IllegalStateException("no free port on " + LOOPBACK + " that was not handed out lately");
    }

    /** 127.0.0.1:{@code port}, resolved. */
    public static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(LOOPBACK, port);
    }
}
