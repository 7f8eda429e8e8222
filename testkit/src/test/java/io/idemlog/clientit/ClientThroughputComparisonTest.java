package io.idemlog.clientit;

import io.idemlog.client.IdemlogProducer;
import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Records per second of idemlog's producer and of the kafka-clients producer against the SAME idemlog server, same
 * workload (1,000,000 x 100 B, no key, acks=all, idempotent, linger.ms=5, batch.size=65536), rounds alternating
 * client A, client B, A, B... A measurement, not a test: it asserts only that every record was acknowledged, and
 * runs only when asked for:
 * <pre>
 * ./mvnw -B -q -pl testkit -am test -Dtest=ClientThroughputComparisonTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dclientit.compare=true [-Dclientit.rounds=3]
 * </pre>
 */
@EnabledIfSystemProperty(named = "clientit.compare", matches = "true")
class ClientThroughputComparisonTest {
    private static final int RECORDS = Integer.getInteger("clientit.compareRecords", 1_000_000);
    private static final int ROUNDS = Integer.getInteger("clientit.rounds", 3);

    @TempDir
    Path dir;

    private static double idemlog(String bootstrap, String topic) {
        Properties p = ClientRuns.config(bootstrap, true);
        p.put(io.idemlog.client.ProducerConfig.BATCH_SIZE, "65536");
        byte[] value = new byte[100];
        AtomicLong acked = new AtomicLong();
        long t0;
        try (IdemlogProducer producer = IdemlogProducer.create(p)) {
            producer.send(topic, null, value).join(); // connections and metadata before the clock starts
            t0 = System.nanoTime();
            for (int i = 0; i < RECORDS; i++) {
                producer.send(topic, null, value, (md, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(RECORDS, acked.get());
        return RECORDS / seconds;
    }

    private static double kafkaClients(String bootstrap, String topic) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        byte[] value = new byte[100];
        AtomicLong acked = new AtomicLong();
        long t0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, value)).get();
            t0 = System.nanoTime();
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(topic, value), (md, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(RECORDS, acked.get());
        return RECORDS / seconds;
    }

    private static String summary(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return String.format("median %,.0f rec/s (min %,.0f, max %,.0f) over %s", a[a.length / 2], a[0],
            a[a.length - 1], Arrays.toString(xs.stream().mapToLong(Math::round).toArray()));
    }

    @Test
    void measureIdemlogProducerAgainstKafkaClientsOnTheSameIdemlogServer() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", "p1:1,p8:8")
            .logFile(dir.resolve("server.log"))
            .start()) {
            for (String topic : new String[] {"p8", "p1"}) {
                List<Double> ours = new ArrayList<>();
                List<Double> theirs = new ArrayList<>();
                for (int r = 0; r < ROUNDS; r++) {
                    ours.add(idemlog(server.bootstrap(), topic));
                    theirs.add(kafkaClients(server.bootstrap(), topic));
                }
                double[] o = ours.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                double[] t = theirs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                System.out.printf("COMPARE %s: idemlog producer %s%nCOMPARE %s: kafka-clients %s%n"
                        + "COMPARE %s: ratio of medians idemlog/kafka-clients = %.2f%n", topic, summary(ours), topic,
                    summary(theirs), topic, o[o.length / 2] / t[t.length / 2]);
            }
        }
    }
}
