package io.idemlog.restarts;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.common.record.Header;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The application of the restart benchmark (docs/DEDUP.md): reads events (one event id per line) from a file,
 * produces each with its id in the {@code event-id} header, and every {@code every} events flushes and then writes
 * its checkpoint atomically. The checkpoint lags one step behind what the flush confirmed (it names the line
 * {@code every} events before the last one acknowledged), as a checkpoint written by a periodic task lags the sends;
 * so whenever the application is SIGKILLed, at least {@code every} records past its checkpoint are already stored,
 * and the next start re-sends them. That makes every kill a certain source of re-sent records: the control run
 * (no de-duplication) must store at least {@code kills * every} duplicates, not merely "some" that a kill landing
 * right after a checkpoint would not have made.
 *
 * <p>{@code RestartApp <bootstrap> <topic> <events file> <checkpoint file> <idemlog|kafka|kafka-lz4> <every>}
 */
public final class RestartApp {
    static final String HEADER = "event-id";

    private RestartApp() {
    }

    interface Sink extends AutoCloseable {
        void send(String topic, byte[] id, byte[] value);

        void flush();

        @Override
        void close();
    }

    static Sink idemlog(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "5");
        IdemlogProducer producer = IdemlogProducer.create(p);
        return new Sink() {
            public void send(String topic, byte[] id, byte[] value) {
                producer.send(topic, null, value, new Header[] {new Header(HEADER, id)});
            }

            public void flush() {
                producer.flush();
            }

            public void close() {
                producer.close();
            }
        };
    }

    static Sink kafka(String bootstrap) {
        return kafka(bootstrap, "none");
    }

    /** kafka-clients with this compression.type (the "kafka-lz4" client: compressed batches with repeats). */
    static Sink kafka(String bootstrap, String compression) {
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
            "enable.idempotence", true, "acks", "all", "linger.ms", 5, "delivery.timeout.ms", 120_000,
            "compression.type", compression,
            "key.serializer", ByteArraySerializer.class.getName(),
            "value.serializer", ByteArraySerializer.class.getName()));
        return new Sink() {
            public void send(String topic, byte[] id, byte[] value) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, value);
                r.headers().add(HEADER, id);
                producer.send(r);
            }

            public void flush() {
                producer.flush();
            }

            public void close() {
                producer.close();
            }
        };
    }

    static long readCheckpoint(Path file) throws IOException {
        return Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0L;
    }

    static void writeCheckpoint(Path file, long next) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Long.toString(next));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public static void main(String[] args) throws IOException {
        String bootstrap = args[0];
        String topic = args[1];
        List<String> events = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8);
        Path checkpoint = Path.of(args[3]);
        int every = Integer.parseInt(args[5]);
        long from = readCheckpoint(checkpoint);
        try (Sink sink = args[4].equals("kafka") ? kafka(bootstrap)
            : args[4].equals("kafka-lz4") ? kafka(bootstrap, "lz4") : idemlog(bootstrap)) {
            for (long i = from; i < events.size(); i++) {
                byte[] id = events.get((int) i).getBytes(StandardCharsets.UTF_8);
                sink.send(topic, id, ("payload-of-" + events.get((int) i)).getBytes(StandardCharsets.UTF_8));
                if ((i + 1) % every == 0) {
                    sink.flush();
                    writeCheckpoint(checkpoint, i + 1 - every); // one step behind what is acknowledged
                }
            }
            sink.flush();
            writeCheckpoint(checkpoint, events.size());
        }
        System.out.println("done");
    }
}
