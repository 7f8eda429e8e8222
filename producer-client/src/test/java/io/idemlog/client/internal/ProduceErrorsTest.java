package io.idemlog.client.internal;

import io.idemlog.common.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

import static io.idemlog.client.internal.ProduceErrors.Action.DUPLICATE;
import static io.idemlog.client.internal.ProduceErrors.Action.FAIL;
import static io.idemlog.client.internal.ProduceErrors.Action.FATAL;
import static io.idemlog.client.internal.ProduceErrors.Action.OUT_OF_ORDER;
import static io.idemlog.client.internal.ProduceErrors.Action.RETRY;
import static io.idemlog.client.internal.ProduceErrors.Action.RETRY_REFRESH_METADATA;
import static io.idemlog.client.internal.ProduceErrors.Action.SUCCESS;
import static io.idemlog.client.internal.ProduceErrors.Action.UNKNOWN_PRODUCER;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The producer's reaction to each error code follows from the one error table (ErrorCode). */
class ProduceErrorsTest {
    private static ProduceErrors.Action classify(ErrorCode e) {
        return ProduceErrors.classify(e.code);
    }

    @Test
    void shouldNameTheCodesAnIdempotentProducerTreatsSpecially() {
        assertEquals(SUCCESS, classify(ErrorCode.NONE));
        assertEquals(DUPLICATE, classify(ErrorCode.DUPLICATE_SEQUENCE_NUMBER));
        assertEquals(OUT_OF_ORDER, classify(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
        assertEquals(UNKNOWN_PRODUCER, classify(ErrorCode.UNKNOWN_PRODUCER_ID));
        assertEquals(FATAL, classify(ErrorCode.INVALID_PRODUCER_EPOCH));
        assertEquals(FATAL, classify(ErrorCode.PRODUCER_FENCED));
        assertEquals(FATAL, classify(ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        assertEquals(FATAL, classify(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
    }

    @Test
    void shouldRetryWhatTheTableCallsRetriableAndRefreshMetadataWhereItSays() {
        assertEquals(RETRY_REFRESH_METADATA, classify(ErrorCode.NOT_LEADER_OR_FOLLOWER));
        assertEquals(RETRY_REFRESH_METADATA, classify(ErrorCode.KAFKA_STORAGE_ERROR));
        assertEquals(RETRY_REFRESH_METADATA, classify(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        assertEquals(RETRY, classify(ErrorCode.REQUEST_TIMED_OUT));
        assertEquals(RETRY, classify(ErrorCode.CORRUPT_MESSAGE));
        assertEquals(RETRY, classify(ErrorCode.NOT_ENOUGH_REPLICAS));
        assertEquals(FAIL, classify(ErrorCode.MESSAGE_TOO_LARGE));
        assertEquals(FAIL, classify(ErrorCode.INVALID_RECORD));
        assertEquals(FAIL, classify(ErrorCode.UNKNOWN_SERVER_ERROR));
        assertEquals(FAIL, ProduceErrors.classify((short) 123), "a code the table does not know is not retried");
    }

    @Test
    void shouldAgreeWithTheTableOnEveryOtherCode() {
        for (ErrorCode e : ErrorCode.values()) {
            ProduceErrors.Action a = classify(e);
            if (a == RETRY || a == RETRY_REFRESH_METADATA) {
                assertEquals(true, e.retriable, e.name());
                assertEquals(e.refreshesMetadata, a == RETRY_REFRESH_METADATA, e.name());
            } else if (a == FAIL) {
                assertEquals(false, e.retriable, e.name());
            }
        }
    }
}
