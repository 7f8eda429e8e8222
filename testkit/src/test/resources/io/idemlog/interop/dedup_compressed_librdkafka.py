#!/usr/bin/env python3
"""DedupCompressedInteropTest's librdkafka producer (Debian's python3-confluent-kafka): sends records with ids in
the event-id header, compressed with one codec, idempotent, acks=all; each group of ids is one flush (so a group
tends to be one batch). Prints "<id> <offset>" for every delivered record (librdkafka's offset: base + index).

usage: dedup_compressed_librdkafka.py <bootstrap> <topic> <codec> <group> [<group> ...]
       a group: <from-to>[,<from-to>...] (to exclusive), sent in that order and then flushed
"""
import sys

from confluent_kafka import Producer


def main():
    bootstrap, topic, codec = sys.argv[1:4]
    failures = []
    offsets = []

    def delivered(ident):
        def report(err, msg):
            if err is not None:
                failures.append(str(err))
            else:
                offsets.append((ident, msg.offset()))
        return report

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "compression.type": codec, "message.timeout.ms": 60000})
    for group in sys.argv[4:]:
        for part in group.split(","):
            start, end = (int(x) for x in part.split("-"))
            for i in range(start, end):
                producer.produce(topic, value=("event-%d-" % i + "x" * 100).encode(), partition=0,
                                 headers=[("event-id", ("id-%d" % i).encode())],
                                 on_delivery=delivered("id-%d" % i))
        remaining = producer.flush(60)
        if remaining or failures:
            sys.stderr.write("delivery failed: %d not delivered, errors %s\n" % (remaining, failures[:5]))
            sys.exit(2)
    for ident, offset in offsets:
        print(ident, offset)


if __name__ == "__main__":
    main()
