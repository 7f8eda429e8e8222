/**
 * Storage: segmented partition logs, their sparse indexes, producer state (sequence checks, snapshots, expiry),
 * group-commit durability and retention. Knows nothing of Netty. Appends to a partition are serialised by the
 * partition; fsync runs on one flusher thread; callbacks on durability run on the flusher thread.
 */
package io.idemlog.server.log;
