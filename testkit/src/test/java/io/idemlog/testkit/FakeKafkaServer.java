package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny blocking Kafka-protocol server for the testkit's own tests, standing in for idemlog until its server
 * exists: answers ApiVersions, Metadata (one broker, advertised at a configurable address, one partition per
 * topic) and Produce (every partition NONE at the next offset; no answer for acks=0), and counts what it saw.
 * A thread per connection; {@link #main} runs it as the "server" of a {@link ServerProcess}.
 */
final class FakeKafkaServer implements AutoCloseable {
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger closedConnections = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger produceRequests = new AtomicInteger();
    /** Connections that ended in the middle of a frame. */
    final AtomicInteger truncatedFrames = new AtomicInteger();
    volatile String advertisedHost = "192.0.2.1";
    volatile int advertisedPort = 9092;

    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicLong nextOffset = new AtomicLong();

    FakeKafkaServer(int port) throws IOException {
        serverSocket = new ServerSocket();
        serverSocket.setReuseAddress(true);
        serverSocket.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), port));
        acceptor = new Thread(this::acceptLoop, "fake-kafka-acceptor-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return serverSocket.getLocalPort();
    }

    InetSocketAddress address() {
        return Ports.loopback(port());
    }

    private void acceptLoop() {
        while (!serverSocket.isClosed()) {
            try {
                Socket socket = serverSocket.accept();
                connections.incrementAndGet();
                sockets.add(socket);
                Thread t = new Thread(() -> serve(socket), "fake-kafka-conn-" + socket.getPort());
                t.setDaemon(true);
                threads.add(t);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            OutputStream out = socket.getOutputStream();
            while (true) {
                int size;
                try {
                    size = in.readInt();
                } catch (EOFException e) {
                    return;
                }
                byte[] frame = new byte[size];
                try {
                    in.readFully(frame);
                } catch (IOException e) {
                    truncatedFrames.incrementAndGet();
                    return;
                }
                requests.incrementAndGet();
                ByteBuffer response = answer(ByteBuffer.wrap(frame));
                if (response == null) {
                    continue;
                }
                out.write(response.array(), response.arrayOffset() + response.position(), response.remaining());
                out.flush();
            }
        } catch (IOException | ProtocolException e) {
            // reset by the peer, or garbage: drop the connection
        } finally {
            sockets.remove(socket);
            closedConnections.incrementAndGet();
        }
    }

    /** The response frame, or null when none is due (acks=0). */
    private ByteBuffer answer(ByteBuffer frame) {
        WireReader reader = new WireReader(frame);
        RequestHeader header = RequestHeader.read(reader);
        ApiKey api = header.api();
        short version = header.apiVersion;
        if (api == ApiKey.API_VERSIONS) {
            ApiVersionsResponse body = new ApiVersionsResponse();
            if (version > ApiKey.API_VERSIONS.maxVersion) {
                body.errorCode = ErrorCode.UNSUPPORTED_VERSION.code;
                body.apiKeys.add(new ApiVersionsResponse.ApiVersion(ApiKey.API_VERSIONS.id, (short) 0,
                    ApiKey.API_VERSIONS.maxVersion));
                return frame(header.correlationId, (short) 0, (short) 0, body);
            }
            for (ApiKey key : ApiKey.values()) {
                body.apiKeys.add(new ApiVersionsResponse.ApiVersion(key.id, key.minVersion, key.maxVersion));
            }
            return frame(header.correlationId, (short) 0, version, body);
        }
        if (api == ApiKey.METADATA) {
            MetadataRequest request = MetadataRequest.read(reader, version);
            MetadataResponse body = new MetadataResponse();
            body.brokers.add(new MetadataResponse.Broker(1, advertisedHost, advertisedPort));
            body.clusterId = "fake";
            body.controllerId = 1;
            for (String name : request.topics == null ? List.<String>of() : request.topics) {
                MetadataResponse.Topic t = new MetadataResponse.Topic();
                t.name = name;
                MetadataResponse.Partition p = new MetadataResponse.Partition();
                p.leaderId = 1;
                p.replicaNodes = new int[] {1};
                p.isrNodes = new int[] {1};
                t.partitions.add(p);
                body.topics.add(t);
            }
            return frame(header.correlationId, api.responseHeaderVersion(version), version, body);
        }
        if (api == ApiKey.PRODUCE) {
            produceRequests.incrementAndGet();
            ProduceRequest request = ProduceRequest.read(reader, version);
            if (request.acks == 0) {
                return null;
            }
            ProduceResponse body = new ProduceResponse();
            for (ProduceRequest.TopicData t : request.topics) {
                ProduceResponse.TopicResponse rt = new ProduceResponse.TopicResponse(t.name);
                for (ProduceRequest.PartitionData p : t.partitions) {
                    rt.partitions.add(new ProduceResponse.PartitionResponse(p.index, ErrorCode.NONE.code,
                        nextOffset.getAndIncrement(), 0L));
                }
                body.topics.add(rt);
            }
            return frame(header.correlationId, api.responseHeaderVersion(version), version, body);
        }
        throw new ProtocolException("fake server does not serve " + header);
    }

    private static ByteBuffer frame(int correlationId, short headerVersion, short version, Message body) {
        WireWriter writer = new WireWriter();
        writer.writeInt32(0);
        ResponseHeader.write(writer, correlationId, headerVersion);
        body.write(writer, version);
        ByteBuffer frame = writer.toFlatBuffer();
        frame.putInt(0, frame.remaining() - 4);
        return frame;
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
        for (Socket s : sockets) {
            s.close();
        }
        try {
            acceptor.join(5_000);
            for (Thread t : threads) {
                t.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs as a server process: {@code --override listeners=PLAINTEXT://127.0.0.1:<port> --override
     * log.dirs=<dir>}. Appends a line to {@code <dir>/starts} on start and writes {@code <dir>/clean-shutdown} on
     * SIGTERM, so tests can tell a kill from a stop and see that restarts keep the directory.
     */
    public static void main(String[] args) throws Exception {
        int port = -1;
        Path dir = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!"--override".equals(args[i])) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String[] kv = args[i + 1].split("=", 2);
            if (kv[0].equals("listeners")) {
                port = Integer.parseInt(kv[1].substring(kv[1].lastIndexOf(':') + 1));
            } else if (kv[0].equals("log.dirs")) {
                dir = Path.of(kv[1]);
            }
        }
        if (port < 0 || dir == null) {
            System.err.println("usage: --override listeners=PLAINTEXT://127.0.0.1:<port> --override log.dirs=<dir>");
            System.exit(2);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("starts"), "start\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        FakeKafkaServer server = new FakeKafkaServer(port);
        Path marker = dir.resolve("clean-shutdown");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
                Files.writeString(marker, "bye\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                e.printStackTrace();
            }
        }));
        System.out.println("fake server listening on " + port + ", data in " + dir);
        server.acceptor.join();
    }
}
