/**
 * Benchmarks of the server's producer state: the sequence check per batch and the heap per producer entry.
 */
package io.idemlog.bench.state;
