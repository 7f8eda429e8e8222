/**
 * RecordBatch v2: the byte layout ({@link io.idemlog.common.record.RecordBatch}, a flyweight), an in-place builder,
 * a record reader, CRC-32C, zigzag varints and sequence arithmetic. Allocation-free on the hot paths; not
 * thread-safe (one flyweight per thread).
 */
package io.idemlog.common.record;
