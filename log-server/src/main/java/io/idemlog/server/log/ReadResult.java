package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

import java.nio.file.Path;

/**
 * What a fetch reads from a partition: a byte range of one segment file holding whole batches, starting with the
 * batch that contains the fetch offset, ending at or below the high watermark. Sent zero-copy by the transport.
 *
 * @param error          NONE, or OFFSET_OUT_OF_RANGE (offset below the log start or above the high watermark)
 * @param file           the segment file, or null when there is nothing to send
 * @param position       first byte to send
 * @param size           bytes to send (0 when the fetch offset is at the high watermark)
 * @param highWatermark  the partition's high watermark (durable end) when read
 * @param logStartOffset the partition's first offset when read
 */
public record ReadResult(ErrorCode error, Path file, long position, int size, long highWatermark,
                         long logStartOffset) {
}
