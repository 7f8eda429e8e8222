package io.idemlog.server.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The sparse index's block storage: entries across block boundaries (the small first block growing, whole blocks
 * after it) read back exactly, every search agrees with a linear scan, and the file round trip keeps every entry.
 */
class SegmentIndexTest {
    @TempDir
    Path dir;

    @Test
    void entriesAcrossBlockBoundariesAgreeWithALinearScanAndSurviveTheFile() throws IOException {
        Random random = new Random(7);
        for (int n : new int[] {0, 1, 16, 17, 255, 256, 257, 511, 512, 513, 3000}) {
            SegmentIndex index = new SegmentIndex();
            int[] offsets = new int[n];
            int[] positions = new int[n];
            long[] timestamps = new long[n];
            int offset = 0;
            int position = 0;
            long ts = 100;
            for (int i = 0; i < n; i++) {
                offset += 1 + random.nextInt(50);
                position += 61 + random.nextInt(5000);
                ts += random.nextInt(3);
                offsets[i] = offset;
                positions[i] = position;
                timestamps[i] = ts;
                index.append(offset, position, ts);
            }
            assertEquals(n, index.count());
            for (int i = 0; i < n; i++) {
                assertEquals(offsets[i], index.relativeOffset(i), "n=" + n + " entry " + i);
                assertEquals(positions[i], index.position(i));
                assertEquals(timestamps[i], index.maxTimestampBefore(i));
            }
            assertEquals(n == 0 ? 0 : positions[n - 1], index.lastPosition());
            assertEquals(n == 0 ? -1L : timestamps[n - 1], index.lastMaxTimestampBefore());
            for (int probe = 0; probe <= offset + 2; probe += 1 + random.nextInt(7)) {
                int expected = -1;
                for (int i = 0; i < n; i++) {
                    if (offsets[i] <= probe) {
                        expected = i;
                    }
                }
                assertEquals(expected, index.floorEntry(probe), "n=" + n + " floorEntry(" + probe + ")");
            }
            for (long t = 99; t <= ts + 1; t++) {
                int expected = -1;
                for (int i = 0; i < n; i++) {
                    if (timestamps[i] < t) {
                        expected = i;
                    }
                }
                assertEquals(expected, index.entryBeforeTimestamp(t), "n=" + n + " entryBeforeTimestamp(" + t + ")");
            }
            Path file = dir.resolve(n + ".index");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
                index.writeTo(ch);
                assertEquals((long) n * SegmentIndex.ENTRY_SIZE, ch.size());
                SegmentIndex loaded = SegmentIndex.load(ch, file.toString(), Integer.MAX_VALUE);
                assertEquals(n, loaded.count());
                for (int i = 0; i < n; i++) {
                    assertEquals(offsets[i], loaded.relativeOffset(i));
                    assertEquals(positions[i], loaded.position(i));
                    assertEquals(timestamps[i], loaded.maxTimestampBefore(i));
                }
            }
        }
    }
}
