/**
 * The server's metrics: {@link io.idemlog.server.metrics.ServerMeters} binds the cheap counters of the other
 * packages to a Micrometer registry; {@link io.idemlog.server.metrics.MetricsService} owns the registry, the
 * Prometheus text endpoint (metrics.listener) and JMX. docs/OPERATIONS.md lists every metric.
 */
package io.idemlog.server.metrics;
