package io.idemlog.spike.ratis;

/** Where the bytes of a batch are written: the three ways compared by the spike (docs/REPLICATION.md). */
enum Mode {
    /**
     * The batch is in the Raft entry (Ratis's log, fsync'd before commit) and apply writes it again into the
     * partition's segment file (page cache only; fsync'd when a snapshot seals the segment). Apply is today's
     * decide + append.
     */
    DOUBLE_WRITE,
    /**
     * Ozone's way: the Raft entry holds only a small header; the batch is the entry's state machine data, which
     * Ratis hands to {@code write()} on every replica in log order (the data file, fsync'd by {@code flush()} before
     * Ratis counts the entry as flushed) and which {@code truncate()} cuts when a new leader overwrites a tail.
     * Apply decides from the header and patches base offset and leader epoch in place.
     */
    SM_DATA,
    /**
     * Apply decides and assigns offsets but writes nothing: the cost of Raft alone, i.e. the bound for "the Raft
     * log is the segment" (one write, in Ratis's own format).
     */
    LOG_ONLY
}
