"""A kafka-python group consumer for GroupConsumersPythonInteropTest.

Usage: group_consumer_kafka_python.py BOOTSTRAP TOPIC GROUP EXPECTED TIMEOUT_S
As group_consumer_confluent.py: subscribes with GROUP (no auto commit, earliest), reads until EXPECTED values (then
one more second) or TIMEOUT_S, commits synchronously, closes, prints the values one per line.
"""
import sys
import time

from kafka import KafkaConsumer

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
expected, timeout = int(sys.argv[4]), float(sys.argv[5])
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                         enable_auto_commit=False, session_timeout_ms=10000)
values = []
deadline = time.monotonic() + timeout
extra_until = None
while True:
    now = time.monotonic()
    if now > deadline or (extra_until is not None and now > extra_until):
        break
    for records in consumer.poll(timeout_ms=200).values():
        for r in records:
            values.append(r.value.decode('utf-8'))
    if len(values) >= expected and extra_until is None:
        extra_until = time.monotonic() + 1.0
consumer.commit()
consumer.close()
sys.stdout.write(''.join(v + '\n' for v in values))
