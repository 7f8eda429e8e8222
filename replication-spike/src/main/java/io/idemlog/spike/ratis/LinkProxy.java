package io.idemlog.spike.ratis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * SPIKE: a plain byte proxy in front of every node's Raft port, able to cut chosen links. All Raft traffic to node
 * {@code j} enters through proxy {@code j}; which node DIALED a connection is found from the kernel (Linux):
 * the accepted socket's remote port is the dialer's local port, {@code /proc/net/tcp[6]} maps it to a socket
 * inode, and the inode is in the {@code /proc/<pid>/fd} of exactly one node JVM. So every directed link
 * {@code i -> j} can be cut on its own, with every address staying 127.0.0.1.
 *
 * <p>Cutting a link closes its open connections and refuses new ones until healed. gRPC streams are
 * bidirectional, so "i cannot reach j" is modelled by cutting both directions (see {@link #isolate}).
 */
final class LinkProxy implements AutoCloseable {
    private final int nodes;
    private final int[] listenPorts;
    private final int[] targetPorts;
    private final LongFunction<Integer> nodeOfPid;
    private final List<Long> pidsView;
    private final ServerSocket[] servers;
    /** Cut directed links, encoded from * nodes + to. */
    private final Set<Integer> cut = ConcurrentHashMap.newKeySet();
    private final Set<Pipe> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** A proxied connection: which node dialed (-1 unknown), to which node, and its two sockets. */
    private record Pipe(int from, int to, Socket inbound, Socket outbound) {
        void close() {
            closeQuietly(inbound);
            closeQuietly(outbound);
        }
    }

    /**
     * @param listenPorts the Raft ports the peers advertise (proxy side)
     * @param targetPorts the nodes' real gRPC ports
     * @param pids        the live node pids, by node index (read on each accept; -1 when down)
     * @param nodeOfPid   node index of a pid, or null
     */
    LinkProxy(int[] listenPorts, int[] targetPorts, List<Long> pids, LongFunction<Integer> nodeOfPid)
        throws IOException {
        this.nodes = listenPorts.length;
        this.listenPorts = listenPorts.clone();
        this.targetPorts = targetPorts.clone();
        this.pidsView = pids;
        this.nodeOfPid = nodeOfPid;
        this.servers = new ServerSocket[nodes];
        for (int j = 0; j < nodes; j++) {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), listenPorts[j]));
            servers[j] = s;
            int to = j;
            Thread t = new Thread(() -> acceptLoop(to), "link-proxy-accept-" + j);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Cuts every link between {@code node} and the others, both directions. */
    void isolate(int node) {
        for (int other = 0; other < nodes; other++) {
            if (other != node) {
                cut.add(node * nodes + other);
                cut.add(other * nodes + node);
            }
        }
        for (Pipe p : open) {
            if (p.to == node || p.from == node) {
                p.close();
                open.remove(p);
            }
        }
    }

    /** Restores every link. */
    void healAll() {
        cut.clear();
    }

    private boolean isCut(int from, int to) {
        return from >= 0 && cut.contains(from * nodes + to);
    }

    private void acceptLoop(int to) {
        while (!closed) {
            Socket in;
            try {
                in = servers[to].accept();
            } catch (IOException e) {
                return;
            }
            int from = dialer(in.getPort(), listenPorts[to]);
            if (isCut(from, to)) {
                closeQuietly(in);
                continue;
            }
            Socket out;
            try {
                out = new Socket();
                out.setTcpNoDelay(true);
                out.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), targetPorts[to]), 2000);
                in.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(in);
                continue;
            }
            Pipe pipe = new Pipe(from, to, in, out);
            open.add(pipe);
            startCopy(pipe, in, out, "link-proxy-" + from + "-" + to + "-up");
            startCopy(pipe, out, in, "link-proxy-" + from + "-" + to + "-down");
        }
    }

    private void startCopy(Pipe pipe, Socket src, Socket dst, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream is = src.getInputStream(); OutputStream os = dst.getOutputStream()) {
                int n;
                while ((n = is.read(buf)) >= 0) {
                    if (isCut(pipe.from, pipe.to)) {
                        break;
                    }
                    os.write(buf, 0, n);
                }
            } catch (IOException e) {
                // the other side or a cut closed it
            } finally {
                pipe.close();
                open.remove(pipe);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    /** Which node owns the TCP socket 127.0.0.1:{@code localPort} -> :{@code remotePort}; -1 if none. */
    private int dialer(int localPort, int remotePort) {
        String inode = null;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            inode = findInode(Path.of(table), localPort, remotePort);
            if (inode != null) {
                break;
            }
        }
        if (inode == null) {
            return -1;
        }
        String link = "socket:[" + inode + "]";
        for (Long pid : pidsView) {
            if (pid == null || pid < 0) {
                continue;
            }
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", pid.toString(), "fd"))) {
                for (Path fd : fds) {
                    try {
                        if (link.equals(Files.readSymbolicLink(fd).toString())) {
                            Integer node = nodeOfPid.apply(pid);
                            return node == null ? -1 : node;
                        }
                    } catch (IOException e) {
                        // the fd closed meanwhile
                    }
                }
            } catch (IOException e) {
                // the process exited
            }
        }
        return -1;
    }

    private static String findInode(Path table, int localPort, int remotePort) {
        String lp = String.format(Locale.ROOT, ":%04X", localPort);
        String rp = String.format(Locale.ROOT, ":%04X", remotePort);
        try {
            for (String line : Files.readAllLines(table)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(lp) && f[2].endsWith(rp)) {
                    return f[9];
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ServerSocket s : servers) {
            try {
                s.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
        for (Pipe p : open) {
            p.close();
        }
        open.clear();
    }
}
