/**
 * What tests and benchmarks share to prove exactly-once under faults.
 *
 * <ul>
 *   <li>{@link io.idemlog.testkit.FaultProxy}: a Kafka-frame-aware TCP proxy that loses acknowledgements, resets
 *       connections in the middle of a request, delays responses and duplicates requests, each at its own rate,
 *       driven by a seeded random per connection (Aeron's LossGenerator, Jepsen's nemesis).</li>
 *   <li>{@link io.idemlog.testkit.ServerProcess} and {@link io.idemlog.testkit.KafkaBroker}: the idemlog server and a
 *       real Apache Kafka 4.x broker (KRaft, one node), each in its own JVM, killable with SIGKILL.</li>
 *   <li>{@link io.idemlog.testkit.LogReader}: reads every record of a topic back over the Kafka protocol with the
 *       project's own codec, from idemlog or Kafka alike.</li>
 *   <li>{@link io.idemlog.testkit.HistoryChecker}: compares what producers were told (acknowledged records and
 *       their offsets) with what the log holds: duplicates, losses, order violations, offset mismatches.</li>
 * </ul>
 *
 * <p>Threads: the proxy runs on its own Netty event loop (one thread) and is configured from any thread. The
 * process launchers, {@link io.idemlog.testkit.LogReader} and {@link io.idemlog.testkit.WireConnection} are blocking
 * and confined to the caller's thread. {@link io.idemlog.testkit.HistoryChecker} accepts records from producer
 * callback threads and log readers concurrently. Everything binds and connects to 127.0.0.1 only.
 */
package io.idemlog.testkit;
