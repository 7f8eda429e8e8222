package io.idemlog.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The identity a test producer writes into every record value so that the log can be checked against what was
 * sent: which producer (a run id and producer name), which partition it was sent to, and the producer's send index
 * (0, 1, 2, ... over all its sends, whatever the partition).
 *
 * <p>Encoded as ASCII, readable in a hex dump: {@code idl1|<producer>|<partition>|<index>|} followed by padding
 * {@code '.'} up to the requested value size.
 *
 * @param producer  run id and producer name; must not contain {@code '|'}
 * @param partition the partition the record was sent to
 * @param index     the producer's send index, from 0
 */
public record RecordTag(String producer, int partition, long index) {
    private static final byte[] MAGIC = "idl1|".getBytes(StandardCharsets.US_ASCII);
    private static final byte SEPARATOR = '|';
    private static final byte PADDING = '.';

    /** Validates the fields. */
    public RecordTag {
        if (producer == null || producer.isEmpty() || producer.indexOf('|') >= 0) {
            throw new IllegalArgumentException("producer must be non-empty and free of '|': " + producer);
        }
        if (partition < 0 || index < 0) {
            throw new IllegalArgumentException("negative partition or index: " + partition + ", " + index);
        }
    }

    /** The tag as a record value of at least {@code minSize} bytes (padded with {@code '.'}). */
    public byte[] encode(int minSize) {
        byte[] text = (new String(MAGIC, StandardCharsets.US_ASCII) + producer + '|' + partition + '|' + index + '|')
            .getBytes(StandardCharsets.UTF_8);
        if (text.length >= minSize) {
            return text;
        }
        byte[] value = Arrays.copyOf(text, minSize);
        Arrays.fill(value, text.length, minSize, PADDING);
        return value;
    }

    /** The tag as a record value with no padding. */
    public byte[] encode() {
        return encode(0);
    }

    /** The tag in a record value, or null when the value carries none (null, foreign or malformed). */
    public static RecordTag decode(byte[] value) {
        if (value == null || value.length < MAGIC.length + 6 || !Arrays.equals(value, 0, MAGIC.length, MAGIC, 0,
            MAGIC.length)) {
            return null;
        }
        int producerEnd = indexOf(value, MAGIC.length);
        int partitionEnd = producerEnd < 0 ? -1 : indexOf(value, producerEnd + 1);
        int indexEnd = partitionEnd < 0 ? -1 : indexOf(value, partitionEnd + 1);
        if (indexEnd < 0 || producerEnd == MAGIC.length) {
            return null;
        }
        long partition = parseDigits(value, producerEnd + 1, partitionEnd);
        long index = parseDigits(value, partitionEnd + 1, indexEnd);
        if (partition < 0 || partition > Integer.MAX_VALUE || index < 0) {
            return null;
        }
        String producer = new String(value, MAGIC.length, producerEnd - MAGIC.length, StandardCharsets.UTF_8);
        return new RecordTag(producer, (int) partition, index);
    }

    private static int indexOf(byte[] value, int from) {
        for (int i = from; i < value.length; i++) {
            if (value[i] == SEPARATOR) {
                return i;
            }
        }
        return -1;
    }

    /** Decimal digits in [from, to) as a long; -1 if empty, not all digits, or too long. */
    private static long parseDigits(byte[] value, int from, int to) {
        if (to <= from || to - from > 18) {
            return -1;
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            int d = value[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            n = n * 10 + d;
        }
        return n;
    }

    @Override
    public String toString() {
        return producer + "/p" + partition + "#" + index;
    }
}
