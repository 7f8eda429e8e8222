package io.idemlog.client;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Side-by-side throughput of this producer and kafka-clients' KafkaProducer against the same broker, same
 * workload (N x 100 B, no key, acks=all, idempotent, linger.ms=5), one sending thread each, runs alternated:
 * {@code java -cp <test classpath> io.idemlog.client.PeerBench 127.0.0.1:29092 p8 1000000 3 65536}.
 */
public final class PeerBench {
    private PeerBench() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int records = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        int batchSize = Integer.parseInt(args[4]);
        String only = args.length > 5 ? args[5] : "both";
        byte[] value = new byte[100];
        for (int round = 1; round <= rounds; round++) {
            if (!only.equals("kafka")) {
                System.out.printf("round %d idemlog       %s%n", round, idemlog(bootstrap, topic, records, value,
                    batchSize));
            }
            if (!only.equals("idemlog")) {
                System.out.printf("round %d kafka-clients %s%n", round, kafka(bootstrap, topic, records, value,
                    batchSize));
            }
        }
    }

    private static String idemlog(String bootstrap, String topic, int records, byte[] value, int batchSize)
        throws Exception {
        AtomicLong errors = new AtomicLong();
        Callback callback = (md, e) -> {
            if (e != null) {
                errors.incrementAndGet();
            }
        };
        try (IdemlogProducer p = IdemlogProducer.create(ProducerConfig.builder().bootstrapServers(bootstrap)
            .lingerMs(5).batchSize(batchSize).build())) {
            p.send(topic, null, value).get();
            long t0 = System.nanoTime();
            for (int i = 0; i < records; i++) {
                p.send(topic, null, value, callback);
            }
            p.flush();
            long t1 = System.nanoTime();
            return result(records, t1 - t0, errors.get()) + " " + p.networkTransport() + " " + p.metrics();
        }
    }

    private static String kafka(String bootstrap, String topic, int records, byte[] value, int batchSize)
        throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        props.put("batch.size", Integer.toString(batchSize));
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        AtomicLong errors = new AtomicLong();
        org.apache.kafka.clients.producer.Callback callback = (md, e) -> {
            if (e != null) {
                errors.incrementAndGet();
            }
        };
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            p.send(new ProducerRecord<>(topic, value)).get();
            long t0 = System.nanoTime();
            for (int i = 0; i < records; i++) {
                p.send(new ProducerRecord<>(topic, value), callback);
            }
            p.flush();
            long t1 = System.nanoTime();
            return result(records, t1 - t0, errors.get());
        }
    }

    private static String result(int records, long nanos, long errors) {
        return String.format("%d x 100 B in %.3f s = %,.0f records/s, %.1f MB/s, errors %d", records, nanos / 1e9,
            records / (nanos / 1e9), records * 100.0 / (nanos / 1e3), errors);
    }
}
