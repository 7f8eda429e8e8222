#!/usr/bin/env python3
"""The restart benchmark's application on librdkafka (Debian's python3-confluent-kafka), the library kcat is built
on: the same behaviour as RestartApp.java. kcat itself cannot be the application: its -H header applies to every
message of one run, and the benchmark needs a different event-id header on each record.

Reads events (one id per line), produces each with its id in the event-id header (idempotent, acks=all), and every
`every` events flushes and then writes its checkpoint atomically, one step behind what the flush confirmed.

usage: restart_app_librdkafka.py <bootstrap> <topic> <events file> <checkpoint file> <every>
"""
import os
import sys

from confluent_kafka import Producer

HEADER = "event-id"


def read_checkpoint(path):
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip())
    except FileNotFoundError:
        return 0


def write_checkpoint(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(value))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    bootstrap, topic, events_file, checkpoint, every = sys.argv[1:6]
    every = int(every)
    with open(events_file, encoding="utf-8") as f:
        events = [line.rstrip("\n") for line in f]
    failures = []

    def delivered(err, msg):
        if err is not None:
            failures.append(str(err))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 120000})

    def flush():
        remaining = producer.flush(120)
        if remaining or failures:
            sys.stderr.write("delivery failed: %d not delivered, errors %s\n" % (remaining, failures[:5]))
            sys.exit(2)

    start = read_checkpoint(checkpoint)
    for i in range(start, len(events)):
        event = events[i]
        while True:
            try:
                producer.produce(topic, value=("payload-of-" + event).encode(), headers=[(HEADER, event.encode())],
                                 on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)  # the local queue is full: serve delivery reports, then try again
        producer.poll(0)
        if (i + 1) % every == 0:
            flush()
            write_checkpoint(checkpoint, i + 1 - every)  # one step behind what is acknowledged
    flush()
    write_checkpoint(checkpoint, len(events))
    print("done")


if __name__ == "__main__":
    main()
