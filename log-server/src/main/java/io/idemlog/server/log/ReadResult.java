package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * What a fetch reads from a partition: a byte range of one segment file holding whole batches, starting with the
 * batch that contains the fetch offset, ending at or below the high watermark. Sent zero-copy by the transport.
 *
 * <p>Send it through {@code channel} (e.g. {@code channel.transferTo(position, size, target)}), not by opening
 * {@code file}: retention renames a segment's file when it removes the segment, while the channel stays open and
 * readable for {@link LogConfig#fileDeleteDelayMs()} after that. The channel belongs to the log: never close it
 * (Netty's {@code DefaultFileRegion} closes the channel it is given when released, so wrap it in a region that
 * does not, or open {@code file} yourself and accept that a fetch racing with retention may fail).
 *
 * @param error          NONE; OFFSET_OUT_OF_RANGE (offset below the log start or above the high watermark);
 *                       KAFKA_STORAGE_ERROR (the partition is offline after an I/O error)
 * @param file           the segment file as it was named when read, or null when there is nothing to send
 * @param position       first byte to send
 * @param size           bytes to send (0 when the fetch offset is at the high watermark)
 * @param highWatermark  the partition's high watermark (durable end) when read
 * @param logStartOffset the partition's first offset when read
 * @param channel        an open channel on the segment file, shared and owned by the log; null when there is
 *                       nothing to send
 */
public record ReadResult(ErrorCode error, Path file, long position, int size, long highWatermark,
                         long logStartOffset, FileChannel channel) {

    /** A result without a channel (errors, empty reads, test doubles). */
    public ReadResult(ErrorCode error, Path file, long position, int size, long highWatermark, long logStartOffset) {
        this(error, file, position, size, highWatermark, logStartOffset, null);
    }
}
