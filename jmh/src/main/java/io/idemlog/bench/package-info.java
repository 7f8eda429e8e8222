/**
 * idemlog's JMH benchmarks. Sub-packages mirror the production packages they measure ({@code record} for
 * {@code io.idemlog.common.record}, {@code protocol} for {@code io.idemlog.common.protocol}, ...); this package holds
 * what they share: buffer kinds, batch fixtures, and {@link io.idemlog.bench.Smoke}, the quick pass over every
 * benchmark that the test phase runs so that none of them rots.
 *
 * <p>A new benchmark is one class: annotate it (explicit {@code @Fork}, {@code @Warmup}, {@code @Measurement},
 * {@code @BenchmarkMode}, {@code @OutputTimeUnit}), and the annotation processor lists it in
 * {@code META-INF/BenchmarkList}, from which both {@code benchmarks.jar} and the smoke pass pick it up.
 *
 * <p>Benchmark state is confined to the JMH worker thread that owns it ({@code Scope.Thread}).
 */
package io.idemlog.bench;
