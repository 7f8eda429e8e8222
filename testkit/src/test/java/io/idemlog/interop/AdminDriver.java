package io.idemlog.interop;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs in a child JVM with ONE kafka-clients version (3.9.x or 4.x) and drives the topic admin APIs through the
 * official AdminClient, writing what it saw, one fact per line ({@code key value}), for the test to check together
 * with the server's files. Uses only API that 3.9 and 4.x share.
 *
 * <p>Mode {@code setup}: create (3 partitions + configs, a refused compact topic, a duplicate, replication factor 3,
 * a validate-only), list, describe, configs (topic, broker, missing topic), produce 30 records of 1000 bytes. Mode
 * {@code alter}: retention.ms=1 and a DELETE by IncrementalAlterConfigs, compaction and an unknown topic refused,
 * the configs described again, grown to 5 partitions (then 4 refused). Mode {@code delete}: delete the topic, list,
 * delete again. Two runs, so that the test looks at the server's files in
 * between. Arguments: bootstrap prefix out-file mode
 */
public final class AdminDriver {
    private AdminDriver() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String prefix = args[1];
        String a = prefix + "-a";
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Paths.get(args[2]), StandardCharsets.UTF_8),
            true)) {
            out.println("version " + AppInfoParser.getVersion());
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
            try (Admin admin = Admin.create(p)) {
                if (args[3].equals("alter")) {
                    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, a);
                    admin.incrementalAlterConfigs(Map.of(res, List.of(
                        new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE))))
                        .all().get(30, TimeUnit.SECONDS);
                    out.println("altered " + a);
                    out.println("alter-compact " + error(() -> admin.incrementalAlterConfigs(Map.of(res, List.of(
                        new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET))))
                        .all().get(30, TimeUnit.SECONDS)));
                    out.println("alter-unknown " + error(() -> admin.incrementalAlterConfigs(Map.of(
                        new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-missing"), List.of(
                        new AlterConfigOp(new ConfigEntry("retention.ms", "5"), AlterConfigOp.OpType.SET))))
                        .all().get(30, TimeUnit.SECONDS)));
                    Config c = admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS).get(res);
                    out.println("config retention.ms " + c.get("retention.ms").value() + " "
                        + c.get("retention.ms").source());
                    out.println("config segment.bytes " + c.get("segment.bytes").value() + " "
                        + c.get("segment.bytes").source());
                    admin.createPartitions(Map.of(a, NewPartitions.increaseTo(5))).all().get(30, TimeUnit.SECONDS);
                    out.println("grow-smaller " + error(() -> admin.createPartitions(Map.of(a,
                        NewPartitions.increaseTo(4))).all().get(30, TimeUnit.SECONDS)));
                    TopicDescription d = admin.describeTopics(List.of(a)).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get(a);
                    out.println("partitions " + d.partitions().size());
                    return;
                }
                if (args[3].equals("delete")) {
                    admin.deleteTopics(List.of(a)).all().get(30, TimeUnit.SECONDS);
                    out.println("deleted " + a);
                    out.println("listed-after-delete " + admin.listTopics().names().get(30, TimeUnit.SECONDS)
                        .contains(a));
                    out.println("delete-again " + error(() -> admin.deleteTopics(List.of(a)).all()
                        .get(30, TimeUnit.SECONDS)));
                    return;
                }
                org.apache.kafka.clients.admin.CreateTopicsResult created = admin.createTopics(List.of(
                    new NewTopic(a, 3, (short) 1).configs(Map.of("retention.ms", "3600000", "segment.bytes", "1024"))));
                created.all().get(30, TimeUnit.SECONDS);
                out.println("created " + a);
                out.println("created-id " + created.topicId(a).get(30, TimeUnit.SECONDS));
                out.println("compact " + error(() -> admin.createTopics(List.of(new NewTopic(prefix + "-c", 1,
                    (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS)));
                out.println("again " + error(() -> admin.createTopics(List.of(new NewTopic(a, 1, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS)));
                out.println("rf3 " + error(() -> admin.createTopics(List.of(new NewTopic(prefix + "-r", 1,
                    (short) 3))).all().get(30, TimeUnit.SECONDS)));
                out.println("validate " + error(() -> admin.createTopics(List.of(new NewTopic(prefix + "-v", 2,
                    (short) 1)), new CreateTopicsOptions().validateOnly(true)).all().get(30, TimeUnit.SECONDS)));
                Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                out.println("listed-v " + names.contains(prefix + "-v"));
                out.println("listed-a " + names.contains(a));

                org.apache.kafka.clients.admin.DescribeClusterResult cluster = admin.describeCluster();
                out.println("cluster " + cluster.nodes().get(30, TimeUnit.SECONDS).size() + " "
                    + cluster.controller().get(30, TimeUnit.SECONDS).id() + " "
                    + cluster.clusterId().get(30, TimeUnit.SECONDS).isEmpty());
                TopicDescription d = admin.describeTopics(List.of(a)).allTopicNames().get(30, TimeUnit.SECONDS).get(a);
                out.println("partitions " + d.partitions().size());
                out.println("topicid " + d.topicId());

                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, a);
                Config c = admin.describeConfigs(List.of(res),
                    new org.apache.kafka.clients.admin.DescribeConfigsOptions().includeSynonyms(true)).all().get(30, TimeUnit.SECONDS).get(res);
                for (String key : List.of("retention.ms", "segment.bytes", "segment.ms", "cleanup.policy")) {
                    ConfigEntry e = c.get(key);
                    out.println("config " + key + " " + e.value() + " " + e.source() + " " + e.synonyms().size());
                }
                ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, "1");
                Config b = admin.describeConfigs(List.of(node)).all().get(30, TimeUnit.SECONDS).get(node);
                ConfigEntry retention = b.get("log.retention.check.interval.ms");
                out.println("broker log.retention.check.interval.ms " + retention.value() + " " + retention.source()
                    + " " + retention.isReadOnly());
                ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-missing");
                out.println("missing " + error(() -> admin.describeConfigs(List.of(missing)).all()
                    .get(30, TimeUnit.SECONDS)));

                Properties pp = new Properties();
                pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                pp.put(ProducerConfig.ACKS_CONFIG, "all");
                pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                    for (int i = 0; i < 30; i++) {
                        producer.send(new ProducerRecord<>(a, i % 3, null, new byte[1000])).get(30, TimeUnit.SECONDS);
                    }
                }
                out.println("produced 30");
                var state = admin.describeProducers(List.of(
                    new org.apache.kafka.common.TopicPartition(a, 0))).all().get(30, TimeUnit.SECONDS)
                    .get(new org.apache.kafka.common.TopicPartition(a, 0));
                out.println("producers-p0 " + state.activeProducers().size() + " "
                    + (state.activeProducers().isEmpty() ? -1 : state.activeProducers().get(0).lastSequence()));
            }
        }
    }

    private interface Action {
        void run() throws Exception;
    }

    /** The simple name of the exception the action's future failed with, or "ok". */
    private static String error(Action action) {
        try {
            action.run();
            return "ok";
        } catch (ExecutionException e) {
            return e.getCause().getClass().getSimpleName();
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }
}
