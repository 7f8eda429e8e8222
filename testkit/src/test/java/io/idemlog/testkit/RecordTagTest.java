package io.idemlog.testkit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecordTagTest {
    @Test
    void shouldRoundTripThroughARecordValue() {
        RecordTag tag = new RecordTag("run7/idem-0", 3, 123_456_789L);
        assertEquals(tag, RecordTag.decode(tag.encode()));
    }

    @Test
    void shouldPadTheValueToTheRequestedSizeAndStillDecode() {
        RecordTag tag = new RecordTag("p", 0, 5);
        byte[] value = tag.encode(100);
        assertEquals(100, value.length);
        assertEquals('.', value[99]);
        assertEquals(tag, RecordTag.decode(value));
    }

    @Test
    void shouldKeepTheTagWhenItIsLongerThanTheRequestedSize() {
        RecordTag tag = new RecordTag("a-rather-long-producer-name", 12, 99);
        assertEquals(tag, RecordTag.decode(tag.encode(4)));
    }

    @Test
    void shouldDecodeForeignOrMalformedValuesAsNull() {
        assertNull(RecordTag.decode(null));
        assertNull(RecordTag.decode(new byte[0]));
        assertNull(RecordTag.decode("hello world, not a tag".getBytes(StandardCharsets.US_ASCII)));
        assertNull(RecordTag.decode("idl1|p|x|1|".getBytes(StandardCharsets.US_ASCII)));
        assertNull(RecordTag.decode("idl1|p|1|-1|".getBytes(StandardCharsets.US_ASCII)));
        assertNull(RecordTag.decode("idl1|p|1|1".getBytes(StandardCharsets.US_ASCII)));
        assertNull(RecordTag.decode("idl1||1|1|".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void shouldRejectAProducerNameThatWouldBreakTheEncoding() {
        assertThrows(IllegalArgumentException.class, () -> new RecordTag("a|b", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new RecordTag("", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new RecordTag("p", -1, 0));
    }
}
