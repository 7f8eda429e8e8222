package io.idemlog.client;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.protocol.message.ProduceResponse;
import io.idemlog.common.record.RecordBatch;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server on 127.0.0.1 that accepts connections and then stalls: in {@link Mode#SILENT} it never answers
 * anything; in {@link Mode#STALL_PRODUCE} it answers ApiVersions, Metadata (one topic, {@code partitions}
 * partitions led by itself) and InitProducerId, and never answers a Produce request, while still reading them;
 * in {@link Mode#ACK_PRODUCE} it answers every batch NONE (storing nothing).
 * Every thread it starts is stopped by {@link #close()}.
 */
final class StallingServer implements AutoCloseable {
    enum Mode { SILENT, STALL_PRODUCE, ACK_PRODUCE }

    private final ServerSocket server;
    private final Mode mode;
    private final String topic;
    private final int partitions;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    final AtomicInteger produceRequests = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();
    private volatile int silentConnections;
    private volatile int refusedFrom;
    private volatile int refusedConnections;
    final AtomicInteger produceBytes = new AtomicInteger();

    StallingServer(Mode mode, String topic, int partitions) throws IOException {
        this.mode = mode;
        this.topic = topic;
        this.partitions = partitions;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        start(this::acceptLoop, "stalling-server-accept");
    }

    /** The first {@code n} connections get no answer at all (as in SILENT), whatever the mode. */
    StallingServer silenceFirstConnections(int n) {
        silentConnections = n;
        return this;
    }

    /** Connections number {@code from} to {@code from + n - 1} (0 = the first) are closed as soon as accepted. */
    StallingServer closeConnections(int from, int n) {
        refusedFrom = from;
        refusedConnections = n;
        return this;
    }

    int port() {
        return server.getLocalPort();
    }

    String bootstrap() {
        return "127.0.0.1:" + port();
    }

    private void start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                int index = connections.getAndIncrement();
                if (index >= refusedFrom && index < refusedFrom + refusedConnections) {
                    s.close();
                    continue;
                }
                boolean silent = index < silentConnections;
                start(() -> serve(s, silent), "stalling-server-conn");
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, boolean silent) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                int size = in.readInt();
                byte[] frame = new byte[size];
                in.readFully(frame);
                if (silent || mode == Mode.SILENT) {
                    continue;
                }
                WireReader r = new WireReader(ByteBuffer.wrap(frame));
                RequestHeader h = RequestHeader.read(r);
                ApiKey api = h.api();
                Message answer = switch (api) {
                    case API_VERSIONS -> apiVersions();
                    case METADATA -> metadata();
                    case INIT_PRODUCER_ID -> initProducerId();
                    case PRODUCE -> {
                        produceRequests.incrementAndGet();
                        produceBytes.addAndGet(size);
                        yield mode == Mode.ACK_PRODUCE ? ack(ProduceRequest.read(r, h.apiVersion)) : null;
                    }
                    default -> null;
                };
                if (answer == null) {
                    continue;
                }
                WireWriter w = new WireWriter();
                w.writeInt32(0);
                ResponseHeader.write(w, h.correlationId, api.responseHeaderVersion(h.apiVersion));
                answer.write(w, h.apiVersion);
                w.putInt32At(0, w.totalSize() - 4);
                ByteBuffer b = w.toFlatBuffer();
                out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                out.flush();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static ApiVersionsResponse apiVersions() {
        ApiVersionsResponse r = new ApiVersionsResponse();
        for (ApiKey k : ApiKey.values()) {
            r.apiKeys.add(new ApiVersionsResponse.ApiVersion(k.id, k.minVersion, k.maxVersion));
        }
        return r;
    }

    private MetadataResponse metadata() {
        MetadataResponse r = new MetadataResponse();
        r.brokers.add(new MetadataResponse.Broker(0, "127.0.0.1", port()));
        MetadataResponse.Topic t = new MetadataResponse.Topic();
        t.name = topic;
        for (int p = 0; p < partitions; p++) {
            MetadataResponse.Partition mp = new MetadataResponse.Partition();
            mp.partitionIndex = p;
            mp.leaderId = 0;
            mp.replicaNodes = new int[] {0};
            mp.isrNodes = new int[] {0};
            t.partitions.add(mp);
        }
        r.topics.add(t);
        return r;
    }

    private final java.util.Map<Integer, Long> nextOffset = new java.util.concurrent.ConcurrentHashMap<>();

    /** Appends nothing, but answers every batch NONE at consecutive offsets per partition. */
    private ProduceResponse ack(ProduceRequest request) {
        ProduceResponse r = new ProduceResponse();
        for (ProduceRequest.TopicData t : request.topics) {
            ProduceResponse.TopicResponse tr = new ProduceResponse.TopicResponse(t.name);
            for (ProduceRequest.PartitionData p : t.partitions) {
                MemoryRecords records = (MemoryRecords) p.records;
                RecordBatch b = new RecordBatch(records.buffer(), records.buffer().position());
                long base = nextOffset.merge(p.index, (long) b.recordsCount(), Long::sum) - b.recordsCount();
                tr.partitions.add(new ProduceResponse.PartitionResponse(p.index, (short) 0, base, 0L));
            }
            r.topics.add(tr);
        }
        return r;
    }

    private static InitProducerIdResponse initProducerId() {
        InitProducerIdResponse r = new InitProducerIdResponse();
        r.producerId = 1;
        r.producerEpoch = 0;
        return r;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
