package io.idemlog.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain byte-forwarding TCP proxy on 127.0.0.1 that can cut every connection through it and refuse new ones: the
 * way a test takes a database (or any TCP service) "down" and back without touching the server. Unlike
 * {@link FaultProxy} it knows nothing of the bytes it carries.
 *
 * <ul>
 *   <li>{@link #cutConnections()}: closes every open connection (both sides see a reset or end of stream), as a
 *       network failure or a server-side kill of the sessions would; new connections are still accepted.</li>
 *   <li>{@link #down()} / {@link #up()}: while down, every connection is cut and new ones are closed as soon as they
 *       are accepted, so clients see the service as unreachable until {@link #up()}.</li>
 * </ul>
 *
 * <p>Threads: one acceptor thread, two copier threads per connection (daemon threads, named after the proxy). The
 * control methods may be called from any thread. {@link #close()} stops everything.
 */
public final class TcpProxy implements AutoCloseable {
    private static final int BUFFER_BYTES = 64 * 1024;

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong cut = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean down;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target, int port) throws IOException {
        this.target = target;
        this.server = new ServerSocket(port, 128, InetAddress.getByName(Ports.LOOPBACK));
        this.acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort() + "-accept");
        this.acceptor.setDaemon(true);
    }

    /** A started proxy on a free port of 127.0.0.1 that forwards to {@code target}. */
    public static TcpProxy start(InetSocketAddress target) {
        return start(target, 0);
    }

    /** A started proxy on {@code port} (0: a free one) of 127.0.0.1 that forwards to {@code target}. */
    public static TcpProxy start(InetSocketAddress target, int port) {
        try {
            TcpProxy proxy = new TcpProxy(target, port);
            proxy.acceptor.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port, e);
        }
    }

    /** The port clients connect to. */
    public int port() {
        return server.getLocalPort();
    }

    /** Closes every connection through the proxy now; later connections are accepted (unless {@link #down()}). */
    public void cutConnections() {
        for (Socket s : open) {
            try {
                s.setSoLinger(true, 0); // a reset, as a dropped network path or a killed peer looks
            } catch (SocketException e) {
                // already closed
            }
            closeQuietly(s);
        }
        cut.incrementAndGet();
    }

    /** Cuts every connection and refuses new ones until {@link #up()}. */
    public void down() {
        down = true;
        cutConnections();
    }

    /** Accepts connections again. */
    public void up() {
        down = false;
    }

    /** Whether {@link #down()} is in force. */
    public boolean isDown() {
        return down;
    }

    /** Connections accepted so far (including those refused while down). */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** Open client-side plus server-side sockets right now. */
    public int openSockets() {
        return open.size();
    }

    /** How many times the connections were cut (by {@link #cutConnections()} or {@link #down()}). */
    public long cuts() {
        return cut.get();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        cutConnections();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "TcpProxy(127.0.0.1:" + port() + " -> " + target + (down ? ", down" : "") + ")";
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            accepted.incrementAndGet();
            if (down) {
                closeQuietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 5_000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            open.add(client);
            open.add(upstream);
            String name = "tcp-proxy-" + port() + "-" + accepted.get();
            startCopier(client, upstream, name + "-up");
            startCopier(upstream, client, name + "-down");
        }
    }

    private void startCopier(Socket from, Socket to, String name) {
        Thread t = new Thread(() -> copy(from, to), name);
        t.setDaemon(true);
        t.start();
    }

    private void copy(Socket from, Socket to) {
        byte[] buffer = new byte[BUFFER_BYTES];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
        } catch (SocketException e) {
            // cut or reset: close both sides below
        } catch (IOException e) {
            // same
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do: the socket is gone either way
        }
        if (c instanceof Socket s) {
            open.remove(s);
        }
    }
}
