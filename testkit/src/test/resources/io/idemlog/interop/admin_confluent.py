"""confluent-kafka's AdminClient (librdkafka) against idemlog: one fact per line on stdout.
Arguments: bootstrap topic."""
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bootstrap})


def wait(futures):
    for f in futures.values():
        f.result(timeout=30)


def error_name(futures):
    try:
        wait(futures)
        return "ok"
    except Exception as e:  # KafkaException wrapping a KafkaError
        err = e.args[0] if e.args else e
        return err.name() if hasattr(err, "name") else type(e).__name__


wait(admin.create_topics([NewTopic(topic, 3, 1, config={"retention.ms": "3600000"})], request_timeout=30))
print("created", topic)
print("compact", error_name(admin.create_topics(
    [NewTopic(topic + "-c", 1, 1, config={"cleanup.policy": "compact"})], request_timeout=30)))
print("again", error_name(admin.create_topics([NewTopic(topic, 1, 1)], request_timeout=30)))
res = ConfigResource("topic", topic)
configs = admin.describe_configs([res])[res].result(timeout=30)
print("config retention.ms", configs["retention.ms"].value, configs["retention.ms"].source)
print("config segment.ms", configs["segment.ms"].value, configs["segment.ms"].source)
# AlterConfigs (the non-incremental API in this client version): the set replaces every override
alter = ConfigResource("topic", topic, set_config={"retention.ms": "7200000", "segment.ms": "600000"})
wait(admin.alter_configs([alter]))
configs = admin.describe_configs([res])[res].result(timeout=30)
print("altered retention.ms", configs["retention.ms"].value, configs["retention.ms"].source)
print("altered segment.ms", configs["segment.ms"].value, configs["segment.ms"].source)
wait(admin.create_partitions([NewPartitions(topic, 5)], request_timeout=30))
print("partitions", len(admin.list_topics(topic, timeout=30).topics[topic].partitions))
wait(admin.delete_topics([topic], request_timeout=30))
print("deleted", topic)
print("listed", topic in admin.list_topics(timeout=30).topics)
