package io.idemlog.interop;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Records for the consumer-group interop tests, written with kafka-clients' idempotent producer (acks=all). */
final class GroupTestRecords {
    private GroupTestRecords() {
    }

    /**
     * Sends values "t-p{partition}-{i}" for i in [from, from + count) to each partition in [0, partitions) and
     * returns them.
     */
    static List<String> produce(String bootstrap, String topic, int partitions, int from, int count) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer =
                 new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = from; i < from + count; i++) {
                    String v = topic + "-p" + partition + "-" + i;
                    producer.send(new ProducerRecord<>(topic, partition, null, v));
                    values.add(v);
                }
            }
            producer.flush();
        }
        return values;
    }
}
