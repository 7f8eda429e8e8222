/**
 * Benchmarks of the producer client without the network: the accumulator's append path.
 */
package io.idemlog.bench.client;
