package io.idemlog.cluster;

import io.idemlog.testkit.Ports;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The Raft links of a 3-node test cluster on 127.0.0.1, with faults: one TCP listener per node (the port in that
 * node's controller.quorum.voters entry) forwarding to the port the node's Raft server binds
 * (replication.listen.port). Every connection is attributed to the node process that opened it (its ephemeral port
 * looked up in /proc/net/tcp and tcp6 gives the socket inode; the node whose /proc/PID/fd holds socket:[inode] opened
 * it), so that {@link #isolate(int)} can cut a node off both ways: what others send to it (its own listener) and
 * what it sends to them (connections it opened to their listeners). A node's connections to its own listener are not
 * a network link and are never cut.
 *
 * <p>The fault is a blackhole: sockets stay open, bytes are held (not read further, so TCP back-pressure builds up
 * on the sender) until {@link #heal()}, then delivered; like a switch dropping packets while TCP keeps
 * retransmitting, not like a reset. Linux only (/proc); the test starts the node processes, so it runs as their user.
 *
 * <p>Threads: one acceptor per listener, two copiers per connection (daemons). Control methods from any thread.
 */
final class RaftLinkProxy implements AutoCloseable {
    private static final int BUFFER_BYTES = 64 * 1024;
    /** Node id 1..3 of a connection's source not (yet) found. */
    private static final int UNKNOWN = -1;

    private final int[] listenPorts;
    private final ServerSocket[] servers;
    private final Thread[] acceptors;
    /** The node processes' pids by node index (0..2), -1 while not running. */
    private final LongSupplier[] pids;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong heldChunks = new AtomicLong();
    /** The node cut off (1..3), 0: none. Guarded by {@link #gate} for waits. */
    private volatile int isolated;
    /** One-way cuts: the node whose sent bytes are held (it still receives), 0: none. */
    private volatile int mutedSender;
    /** One-way cuts: the node whose received bytes are held (it still sends), 0: none. */
    private volatile int deafened;
    private volatile boolean closed;

    /** One accepted connection: from node {@code src} (or UNKNOWN) to node {@code dst}. */
    private final class Link {
        final Socket in;
        final Socket out;
        final int dst;
        final int peerPort;
        volatile int src = UNKNOWN;

        Link(Socket in, Socket out, int dst) {
            this.in = in;
            this.out = out;
            this.dst = dst;
            this.peerPort = in.getPort();
        }

        boolean blocked() {
            return blocked(0);
        }

        /**
         * Whether bytes of this connection are held now; {@code direction} 1: from its source to {@code dst}, 2: the
         * answers back, 0: either (an isolation holds both; a one-way cut only its direction).
         */
        boolean blocked(int direction) {
            int cut = isolated;
            int muted = mutedSender;
            int deaf = deafened;
            if (cut == 0 && muted == 0 && deaf == 0) {
                return false;
            }
            if (src == UNKNOWN) {
                src = sourceNode(peerPort, listenerPortOf(dst));
            }
            if (src == dst) {
                return false; // a node to itself: no network link
            }
            if (cut != 0 && (dst == cut || src == cut)) {
                return true;
            }
            if (direction == 0) {
                return false;
            }
            int sender = direction == 1 ? src : dst;
            int receiver = direction == 1 ? dst : src;
            return (muted != 0 && sender == muted) || (deaf != 0 && receiver == deaf);
        }

        void close() {
            closeQuietly(in);
            closeQuietly(out);
            links.remove(this);
        }
    }

    /**
     * Listeners on free ports of 127.0.0.1, node i+1's forwarding to 127.0.0.1:{@code listenPorts[i]}; {@code pids}
     * give the nodes' current process ids (to attribute connections), -1 when a node is not running.
     */
    RaftLinkProxy(int[] listenPorts, LongSupplier[] pids) throws IOException {
        this.listenPorts = listenPorts.clone();
        this.pids = pids.clone();
        servers = new ServerSocket[listenPorts.length];
        acceptors = new Thread[listenPorts.length];
        for (int i = 0; i < listenPorts.length; i++) {
            servers[i] = new ServerSocket(0, 128, InetAddress.getByName(Ports.LOOPBACK));
            int dst = i + 1;
            acceptors[i] = new Thread(() -> acceptLoop(dst), "raft-link-proxy-" + dst + "-accept");
            acceptors[i].setDaemon(true);
            acceptors[i].start();
        }
    }

    /** The port of node {@code node}'s listener: its controller.quorum.voters port. */
    int listenerPortOf(int node) {
        return servers[node - 1].getLocalPort();
    }

    /** Cuts node {@code node} (1..3) off from the others, both directions, until {@link #heal()}. */
    void isolate(int node) {
        synchronized (gate) {
            isolated = node;
        }
        for (Link l : links) {
            l.blocked(); // attribute every open connection now, while its socket surely exists
        }
    }

    /**
     * A one-way cut: what node {@code node} sends to the others is held (its requests and its answers), what they
     * send to it still arrives, until {@link #heal()}.
     */
    void muteSender(int node) {
        synchronized (gate) {
            mutedSender = node;
        }
        for (Link l : links) {
            l.blocked();
        }
    }

    /** A one-way cut: what the others send to node {@code node} is held, what it sends still arrives. */
    void deafen(int node) {
        synchronized (gate) {
            deafened = node;
        }
        for (Link l : links) {
            l.blocked();
        }
    }

    /** Ends every cut: held bytes are delivered, forwarding resumes. */
    void heal() {
        synchronized (gate) {
            isolated = 0;
            mutedSender = 0;
            deafened = 0;
            gate.notifyAll();
        }
    }

    /** Connections accepted so far. */
    long accepted() {
        return accepted.get();
    }

    /** Reads held back by a cut so far (a chunk = one socket read). */
    long heldChunks() {
        return heldChunks.get();
    }

    /** "src->dst" of every open connection, src -1 when not attributed. */
    String describeLinks() {
        StringBuilder b = new StringBuilder();
        for (Link l : links) {
            b.append(b.length() == 0 ? "" : " ").append(l.src).append("->").append(l.dst);
        }
        return b.toString();
    }

    /** Open connections whose source process was not found. */
    long unattributed() {
        long n = 0;
        for (Link l : links) {
            if (l.src == UNKNOWN && l.in.isConnected() && !l.in.isClosed()) {
                l.src = sourceNode(l.peerPort, listenerPortOf(l.dst));
                n += l.src == UNKNOWN ? 1 : 0;
            }
        }
        return n;
    }

    private void acceptLoop(int dst) {
        ServerSocket server = servers[dst - 1];
        while (!closed) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            Socket out = new Socket();
            try {
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                out.connect(Ports.loopback(listenPorts[dst - 1]), 5_000);
            } catch (IOException e) {
                closeQuietly(in); // the node is down: the caller sees a refused-like close
                closeQuietly(out);
                continue;
            }
            Link link = new Link(in, out, dst);
            links.add(link);
            if (isolated != 0 || mutedSender != 0 || deafened != 0) {
                link.blocked();
            }
            start(link, in, out, "in", 1);
            start(link, out, in, "out", 2);
        }
    }

    private void start(Link link, Socket from, Socket to, String dir, int direction) {
        Thread t = new Thread(() -> copy(link, from, to, direction), "raft-link-proxy-" + link.dst + "-"
            + link.peerPort + "-" + dir);
        t.setDaemon(true);
        t.start();
    }

    private void copy(Link link, Socket from, Socket to, int direction) {
        byte[] buf = new byte[BUFFER_BYTES];
        try {
            InputStream is = from.getInputStream();
            OutputStream os = to.getOutputStream();
            while (!closed) {
                int n = is.read(buf);
                if (n < 0) {
                    break;
                }
                if (link.blocked(direction)) {
                    heldChunks.incrementAndGet();
                    synchronized (gate) {
                        // held until heal() (notifyAll); the bounded wait re-checks `closed`
                        while (link.blocked(direction) && !closed) {
                            gate.wait(1000);
                        }
                    }
                }
                os.write(buf, 0, n);
                os.flush();
            }
        } catch (IOException e) {
            // one side closed or reset: close both
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            link.close();
        }
    }

    /**
     * The node (1..3) whose process holds the client socket of a connection from 127.0.0.1:{@code peerPort} to
     * {@code serverPort}, or UNKNOWN.
     */
    private int sourceNode(int peerPort, int serverPort) {
        long inode = socketInode(peerPort, serverPort);
        if (inode <= 0) {
            return UNKNOWN;
        }
        String target = "socket:[" + inode + "]";
        for (int i = 0; i < pids.length; i++) {
            long pid = pids[i].getAsLong();
            if (pid <= 0) {
                continue;
            }
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
                for (Path fd : fds) {
                    try {
                        if (target.equals(Files.readSymbolicLink(fd).toString())) {
                            return i + 1;
                        }
                    } catch (IOException gone) {
                        // an fd closed while listing
                    }
                }
            } catch (IOException e) {
                // the process exited
            }
        }
        return UNKNOWN;
    }

    /** The inode of the socket whose local port is {@code localPort} and remote port {@code remotePort}, or -1. */
    private static long socketInode(int localPort, int remotePort) {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (int i = 1; i < lines.size(); i++) {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length < 10) {
                    continue;
                }
                if (port(f[1]) == localPort && port(f[2]) == remotePort) {
                    long inode = Long.parseLong(f[9]);
                    if (inode > 0) {
                        return inode;
                    }
                }
            }
        }
        return -1;
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.lastIndexOf(':') + 1), 16);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        heal();
        for (ServerSocket s : servers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (Link l : links) {
            l.close();
        }
    }
}
