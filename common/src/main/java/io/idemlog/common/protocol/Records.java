package io.idemlog.common.protocol;

/**
 * A RECORDS field of a message: a run of RecordBatch bytes that the codec frames (length prefix) but never
 * copies. In memory ({@link MemoryRecords}) on the client and in a decoded Produce request; a file region on the
 * server's Fetch path, so that the transport can send it zero-copy.
 */
public interface Records {
    /** Number of bytes this field carries on the wire (after the length prefix). */
    int sizeInBytes();
}
