/**
 * Request-path stall measurements that are not JMH benchmarks (a main each): how long other work on a network
 * thread waits while one request does something slow. Single-threaded mains; they start and stop their own server.
 */
package io.idemlog.bench.network;
