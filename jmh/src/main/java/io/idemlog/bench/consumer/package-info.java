/**
 * The idempotent consumer's duplicate-injection and throughput benchmark: {@link
 * io.idemlog.bench.consumer.ConsumerBench} (the orchestrator: brokers, PostgreSQL behind a TCP proxy, the kill and
 * cut schedule, the checks, CSV and plots) and {@link io.idemlog.bench.consumer.ConsumerMember} (one member process).
 * Run by {@code jmh/bench.sh consumer}; see docs/BENCHMARKS.md. The orchestrator is single-threaded; each member is
 * its own JVM.
 */
package io.idemlog.bench.consumer;
