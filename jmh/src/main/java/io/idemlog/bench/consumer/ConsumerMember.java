package io.idemlog.bench.consumer;

import io.idemlog.consumer.IdempotentConsumer;
import io.idemlog.consumer.JdbcProcessedIdStore;
import io.idemlog.consumer.KeyExtractor;
import io.idemlog.testkit.SimpleConnectionPool;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * One member process of the consumer duplicate-injection benchmark; {@link ConsumerBench} starts three and SIGKILLs
 * them. {@code ConsumerMember <mode> <bootstrap> <topic> <partitions> <member> <members> <group|static> <jdbcUrl>
 * [batch]}.
 *
 * <p>The effect of a record (value = amount) is an {@code orders} row plus the amount added to the one
 * {@code balance} row: not idempotent. Modes:
 * <ul>
 *   <li>{@code tx}: the idempotent consumer in the transactional mode (id, effect and position in one transaction).</li>
 *   <li>{@code control}: no wrapper, the usual at-least-once consumer: each record's effect in its own transaction,
 *       the partition positions stored (in the database, table {@code control_positions}) after each poll's batch, and
 *       read back at assignment. A kill between an effect and the next position commit re-applies effects.</li>
 * </ul>
 * Assignment {@code group} subscribes (one consumer group); {@code static} assigns partitions p with p % members ==
 * member (for servers without consumer groups). Any failure exits the process (the orchestrator restarts it).
 */
public final class ConsumerMember {

    private ConsumerMember() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String bootstrap = args[1];
        String topic = args[2];
        int partitions = Integer.parseInt(args[3]);
        int member = Integer.parseInt(args[4]);
        int members = Integer.parseInt(args[5]);
        boolean group = args[6].equals("group");
        String url = args[7];
        int batch = args.length > 8 ? Integer.parseInt(args[8]) : 1;
        SimpleConnectionPool pool = SimpleConnectionPool.of(url, "postgres", 2);
        pool.setLoginTimeout(3);
        List<TopicPartition> mine = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            if (p % members == member) {
                mine.add(new TopicPartition(topic, p));
            }
        }
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props(bootstrap, group, "bench-" + mode),
            new StringDeserializer(),
            new StringDeserializer());
        System.out.println("member " + member + " (" + mode + ", " + args[6] + ") starting, pid "
            + ProcessHandle.current().pid());
        if (mode.equals("tx")) {
            runTransactional(consumer, pool, topic, group, mine, batch);
        } else {
            runControl(consumer, pool, topic, group, mine, batch);
        }
    }

    private static Properties props(String bootstrap, boolean group, String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (group) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
            // a SIGKILLed member sends no LeaveGroup: the group notices after the session timeout (the broker minimum)
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        }
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        return p;
    }

    /** The effect: one orders row, the amount added to the balance. */
    static void apply(Connection c, ConsumerRecord<String, String> r) throws SQLException {
        long amount = Long.parseLong(r.value());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (order_id, amount) VALUES (?, ?)")) {
            ps.setString(1, r.key());
            ps.setLong(2, amount);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE balance SET total = total + ? WHERE id = 1")) {
            ps.setLong(1, amount);
            ps.executeUpdate();
        }
    }

    private static void runTransactional(KafkaConsumer<String, String> consumer, DataSource pool, String topic,
                                         boolean group, List<TopicPartition> mine, int batch) {
        JdbcProcessedIdStore store = JdbcProcessedIdStore.builder(pool).createTables(false)
            .purgeInterval(Duration.ZERO).build();
        IdempotentConsumer<String, String> c = IdempotentConsumer.builder(consumer, store,
                (ConsumerRecord<String, String> r, Connection tx) -> apply(tx, r))
            .keyExtractor(KeyExtractor.header(ConsumerBench.HEADER)).scope("bench-tx")
            .storeBackoff(Duration.ofMillis(50), Duration.ofSeconds(1)).maxRecordsPerTransaction(batch).build();
        if (group) {
            c.subscribe(List.of(topic));
        } else {
            c.assign(mine);
        }
        c.run();
    }

    private static void runControl(KafkaConsumer<String, String> consumer, DataSource pool, String topic,
                                   boolean group, List<TopicPartition> mine, int batch) throws SQLException {
        if (group) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    seekToStored(consumer, pool, partitions);
                }
            });
        } else {
            consumer.assign(mine);
            seekToStored(consumer, pool, mine);
        }
        while (true) {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
            Map<TopicPartition, Long> next = new HashMap<>();
            List<ConsumerRecord<String, String>> list = new ArrayList<>();
            records.forEach(list::add);
            for (int from = 0; from < list.size(); from += batch) {
                // the effects of up to `batch` records per transaction (as the wrapper's batched mode), positions after
                try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    for (ConsumerRecord<String, String> r : list.subList(from, Math.min(list.size(), from + batch))) {
                        apply(c, r);
                        next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                    }
                    c.commit();
                }
            }
            if (!next.isEmpty()) {
                try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO control_positions VALUES (?, ?)"
                            + " ON CONFLICT (kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset")) {
                            ps.setInt(1, e.getKey().partition());
                            ps.setLong(2, e.getValue());
                            ps.executeUpdate();
                        }
                    }
                    c.commit();
                }
            }
        }
    }

    private static void seekToStored(KafkaConsumer<String, String> consumer, DataSource pool,
                                     Collection<TopicPartition> partitions) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT kafka_partition, next_offset FROM control_positions");
             ResultSet rs = ps.executeQuery()) {
            Map<Integer, Long> stored = new HashMap<>();
            while (rs.next()) {
                stored.put(rs.getInt(1), rs.getLong(2));
            }
            for (TopicPartition tp : partitions) {
                Long o = stored.get(tp.partition());
                if (o != null) {
                    consumer.seek(tp, o);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read positions", e);
        }
    }
}
