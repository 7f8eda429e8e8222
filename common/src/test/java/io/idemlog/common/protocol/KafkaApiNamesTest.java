package io.idemlog.common.protocol;

import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class KafkaApiNamesTest {
    @Test
    void shouldNameEveryApiKeyOfKafkaClientsAsKafkaDoes() {
        int max = -1;
        for (ApiKeys k : ApiKeys.values()) {
            assertEquals(k.name(), KafkaApiNames.name(k.id), "api key " + k.id);
            max = Math.max(max, k.id);
        }
        assertEquals(max + 1, KafkaApiNames.count());
    }

    @Test
    void shouldNameEveryKeyIdemlogImplementsAsItsApiKeyConstant() {
        for (ApiKey api : ApiKey.values()) {
            assertEquals(api.name(), KafkaApiNames.name(api.id));
        }
    }

    @Test
    void shouldDescribeKnownAndUnknownKeys() {
        assertEquals("FIND_COORDINATOR (10) v4", KafkaApiNames.describe(10, 4));
        assertEquals("unknown api key 200 v0", KafkaApiNames.describe(200, 0));
        assertEquals("unknown api key -3 v1", KafkaApiNames.describe(-3, 1));
        assertNull(KafkaApiNames.name(KafkaApiNames.count()));
    }
}
