package io.idemlog.bench.network;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.record.RecordBatchBuilder;
import io.idemlog.server.IdemlogServer;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Issue 8 defect 5: the latency of a producer that shares the one network thread with a Metadata request that
 * auto-creates many topics. An in-process server (real storage in a temporary directory, num.network.threads=1); a
 * producer connection sends small acks=1 Produce requests one at a time and records each round trip, before
 * and while a second connection asks for {@code topics} new topics in one Metadata request. Prints the producer's
 * p50/p99/max during the creation, the Metadata answer's time, and a baseline of the producer alone.
 *
 * <pre>
 *   java -cp jmh/target/benchmarks.jar io.idemlog.bench.network.TopicCreationStall [topics=1500] [rounds=3]
 * </pre>
 */
public final class TopicCreationStall {
    private TopicCreationStall() {
    }

    public static void main(String[] args) throws Exception {
        int topics = args.length > 0 ? Integer.parseInt(args[0]) : 1500;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        for (int round = 0; round < rounds; round++) {
            runRound(round, topics);
        }
    }

    private static void runRound(int round, int topics) throws Exception {
        Path dir = Files.createTempDirectory("idemlog-topic-stall");
        try {
            ServerConfig config = ServerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0",
                "log.dirs", dir.toString(), "num.network.threads", "1", "create.topics", "bench:1",
                "metrics.log.interval.ms", "0", "log.preallocate", "false"));
            try (IdemlogServer server = IdemlogServer.start(config,
                (d, c, l) -> LogManager.open(d, c, SystemEpochClock.INSTANCE, l));
                 Client producer = new Client(server.port());
                 Client admin = new Client(server.port())) {
                // warm-up and baseline: the producer alone
                long[] alone = produceFor(producer, 2_000, null);
                MetadataRequest md = new MetadataRequest();
                List<String> names = new ArrayList<>();
                for (int i = 0; i < topics; i++) {
                    names.add("auto-" + round + "-" + i);
                }
                md.topics = names;
                long t0 = System.nanoTime();
                admin.send(ApiKey.METADATA, (short) 9, md);
                long[] answeredAt = new long[1];
                Thread reader = new Thread(() -> {
                    try {
                        admin.receive();
                        answeredAt[0] = System.nanoTime();
                    } catch (IOException e) {
                        answeredAt[0] = -1;
                    }
                }, "metadata-reader");
                reader.start();
                long[] during = produceFor(producer, Integer.MAX_VALUE, () -> answeredAt[0] != 0);
                reader.join();
                double metadataMs = (answeredAt[0] - t0) / 1e6;
                System.out.printf("round %d: %d topics created in %.0f ms; producer alone p50 %.2f p99 %.2f max %.2f "
                        + "ms; during creation %d requests p50 %.2f p99 %.2f max %.2f ms%n", round, topics,
                    metadataMs, pct(alone, 50), pct(alone, 99), pct(alone, 100), during.length, pct(during, 50),
                    pct(during, 99), pct(during, 100));
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Sends acks=1 produces one at a time until {@code count} are done or {@code stop} says so; round trips. */
    private static long[] produceFor(Client c, int count, java.util.function.BooleanSupplier stop)
        throws IOException {
        long[] rtt = new long[1024];
        int n = 0;
        while (n < count && (stop == null || !stop.getAsBoolean())) {
            long start = System.nanoTime();
            c.send(ApiKey.PRODUCE, (short) 9, produce());
            c.receive();
            if (n == rtt.length) {
                rtt = Arrays.copyOf(rtt, n * 2);
            }
            rtt[n++] = System.nanoTime() - start;
        }
        return Arrays.copyOf(rtt, n);
    }

    private static double pct(long[] values, int percentile) {
        if (values.length == 0) {
            return Double.NaN;
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.min(sorted.length - 1, Math.ceil(percentile / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    private static ProduceRequest produce() {
        ByteBuffer buf = ByteBuffer.allocate(256);
        RecordBatchBuilder b = new RecordBatchBuilder().init(buf, 0, buf.capacity());
        b.tryAppend(System.currentTimeMillis(), null, "value".getBytes(), null);
        ProduceRequest req = new ProduceRequest();
        req.acks = 1;
        req.timeoutMs = 30_000;
        ProduceRequest.TopicData td = new ProduceRequest.TopicData("bench");
        td.partitions.add(new ProduceRequest.PartitionData(0, new MemoryRecords(buf.limit(b.close()))));
        req.topics.add(td);
        return req;
    }

    /** A blocking wire client: one frame out, one frame in. */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final DataInputStream in;
        private int correlationId;

        Client(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(120_000);
            out = socket.getOutputStream();
            in = new DataInputStream(socket.getInputStream());
        }

        void send(ApiKey api, short version, Message body) throws IOException {
            WireWriter w = new WireWriter(256);
            w.writeInt32(0);
            new RequestHeader(api, version, correlationId++, "stall-bench").write(w);
            body.write(w, version);
            w.putInt32At(0, w.totalSize() - 4);
            ByteBuffer b = w.toFlatBuffer();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            out.write(bytes);
            out.flush();
        }

        void receive() throws IOException {
            int size = in.readInt();
            in.skipNBytes(size);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
