/**
 * The end-to-end benchmark harness: real servers in their own JVMs, real clients, whole runs of records.
 *
 * <ul>
 *   <li>{@code e2e}: an idemlog server ({@link io.idemlog.testkit.ServerProcess}) driven by idemlog's producer,
 *       kafka-clients' producer (both in the harness JVM) or kcat (a child process);</li>
 *   <li>{@code peer}: the same workloads against idemlog and a real Apache Kafka broker
 *       ({@link io.idemlog.testkit.KafkaBroker}) in one run, pair by pair over alternating rounds, with the
 *       idemlog/Kafka ratio of every figure; plus the cost of idempotence (on vs off, same server and client);</li>
 *   <li>{@code faults}: idemlog's producer through a {@link io.idemlog.testkit.FaultProxy} at several fault rates
 *       and across a server SIGKILL, duplicates and losses counted by {@link io.idemlog.testkit.HistoryChecker};</li>
 *   <li>{@code plot}: PNG charts (XChart) from the CSV files the other modes write.</li>
 * </ul>
 *
 * <p>Entry point: {@link io.idemlog.bench.e2e.Bench}, run by {@code jmh/bench.sh}. Every figure it prints comes from
 * the run it prints it in; see docs/BENCHMARKS.md.
 */
package io.idemlog.bench.e2e;
