/**
 * Benchmarks of {@code io.idemlog.common.record}: building a RecordBatch v2 (client side), stamping producer state
 * at drain time, walking records, the server's batch validation, and CRC-32C on its own.
 *
 * <p>Target: no allocation per record on any of these paths, and none per batch once the JIT has compiled them
 * (check with {@code -prof gc}, column {@code gc.alloc.rate.norm}; see docs/BENCHMARKS.md).
 */
package io.idemlog.bench.record;
