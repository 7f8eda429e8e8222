/**
 * Benchmarks of the partition log: appending a batch with and without fsync, per batch and with group commit.
 */
package io.idemlog.bench.log;
