"""A confluent-kafka (librdkafka) group consumer for GroupConsumersPythonInteropTest.

Usage: group_consumer_confluent.py BOOTSTRAP TOPIC GROUP EXPECTED TIMEOUT_S
Subscribes with group.id GROUP (no auto commit, earliest when nothing is committed), reads until EXPECTED values
arrived (then one more second, to see any record beyond them) or TIMEOUT_S passed, commits synchronously, closes,
and prints the values read, one per line. Exit 0 unless the client itself failed.
"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
expected, timeout = int(sys.argv[4]), float(sys.argv[5])
consumer = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': False,
    'session.timeout.ms': 10000,
})
consumer.subscribe([topic])
values = []
deadline = time.monotonic() + timeout
extra_until = None
while True:
    now = time.monotonic()
    if now > deadline or (extra_until is not None and now > extra_until):
        break
    m = consumer.poll(0.2)
    if m is None:
        continue
    if m.error():
        if m.error().code() != KafkaError._PARTITION_EOF:
            print('error: %s' % m.error(), file=sys.stderr)
        continue
    values.append(m.value().decode('utf-8'))
    if len(values) >= expected and extra_until is None:
        extra_until = time.monotonic() + 1.0
try:
    consumer.commit(asynchronous=False)
except KafkaException as e:
    print('commit: %s' % e, file=sys.stderr)
consumer.close()
sys.stdout.write(''.join(v + '\n' for v in values))
