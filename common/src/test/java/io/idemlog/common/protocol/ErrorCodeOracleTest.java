package io.idemlog.common.protocol;

import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The one error table against kafka-clients' Errors: same codes, names, retriability and metadata refresh. */
class ErrorCodeOracleTest {
    @Test
    void shouldAgreeWithKafkasErrorsOnEveryEntry() {
        for (ErrorCode e : ErrorCode.values()) {
            Errors kafka = Errors.forCode(e.code);
            assertEquals(kafka.name(), e.name(), "code " + e.code);
            Throwable ex = kafka.exception();
            assertEquals(ex instanceof RetriableException, e.retriable, e + " retriable");
            assertEquals(ex instanceof InvalidMetadataException, e.refreshesMetadata, e + " refreshes metadata");
            assertSame(e, ErrorCode.forCode(e.code));
        }
    }

    @Test
    void shouldMapUnknownCodesToUnknownServerError() {
        assertSame(ErrorCode.UNKNOWN_SERVER_ERROR, ErrorCode.forCode((short) 127));
        assertEquals(false, ErrorCode.isKnown((short) 127));
        assertEquals(true, ErrorCode.isKnown((short) -1));
    }
}
