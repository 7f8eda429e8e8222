package io.idemlog.client;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every producer property of kafka-clients 4.x ({@code ProducerConfig.configNames()} of the kafka-clients on the test
 * class path), fed to the idemlog producer's configuration with kafka-clients' own default value (or a valid sample
 * when it has none): the build never fails; each property is either honoured (one of {@link ProducerConfig#OPTIONS})
 * or accepted with exactly one warning that names it and says why it is ignored.
 */
class ProducerConfigKafkaNamesTest {
    /** Honoured with their kafka-clients default: nothing to warn about. */
    private static final Set<String> HONOURED_AS_IS = Set.of("security.protocol", "compression.type");

    private ListAppender<ILoggingEvent> warnings;
    private Logger logger;

    @BeforeEach
    void capture() {
        logger = (Logger) LoggerFactory.getLogger(ProducerConfig.class);
        warnings = new ListAppender<>();
        warnings.start();
        logger.addAppender(warnings);
    }

    @AfterEach
    void release() {
        logger.detachAppender(warnings);
    }

    private static Set<String> kafkaNames() {
        Set<String> names = new TreeSet<>(org.apache.kafka.clients.producer.ProducerConfig.configNames());
        assertTrue(names.size() > 100, "kafka-clients 4.x has well over 100 producer properties: " + names.size());
        assertTrue(names.contains("retries") && names.contains("reconnect.backoff.max.ms"));
        return names;
    }

    /** kafka-clients' default of the property, or a valid sample value of its type when it has none (or null). */
    private static Object kafkaValue(String name) {
        ConfigDef.ConfigKey key = org.apache.kafka.clients.producer.ProducerConfig.configDef().configKeys().get(name);
        if (name.equals("bootstrap.servers")) {
            return List.of("127.0.0.1:9092"); // kafka-clients' LIST type, as a Map of configs would carry it
        }
        if (key.hasDefault() && key.defaultValue != null) {
            return key.defaultValue;
        }
        return switch (key.type) {
            case INT, LONG, SHORT -> "1000";
            case DOUBLE -> "0.5";
            case BOOLEAN -> "true";
            case LIST -> "a,b";
            case CLASS -> ByteArraySerializer.class;
            default -> "sample-" + name;
        };
    }

    private List<String> warningsNaming(String name) {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : warnings.list) {
            if (e.getLevel() == Level.WARN && e.getFormattedMessage().contains("'" + name + "'")) {
                out.add(e.getFormattedMessage());
            }
        }
        return out;
    }

    @Test
    void shouldAcceptEveryKafkaProducerPropertyAloneHonouringItOrWarningOnceWhy() {
        Set<String> honoured = new TreeSet<>();
        for (ProducerConfig.Option o : ProducerConfig.OPTIONS) {
            honoured.add(o.name());
        }
        for (String name : kafkaNames()) {
            warnings.list.clear();
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", "127.0.0.1:9092");
            props.put(name, kafkaValue(name));
            ProducerConfig c;
            try {
                c = ProducerConfig.fromMap(props);
            } catch (RuntimeException e) {
                fail("kafka-clients property " + name + "=" + kafkaValue(name) + " failed the build: " + e);
                return;
            }
            List<String> warned = warningsNaming(name);
            if (honoured.contains(name) || HONOURED_AS_IS.contains(name)) {
                assertFalse(c.ignoredProperties().containsKey(name), name);
                assertEquals(List.of(), warned, name + " is honoured: no warning");
            } else {
                String why = c.ignoredProperties().get(name);
                assertTrue(why != null && !why.isBlank(), name + " is neither honoured nor reported as ignored");
                assertEquals(1, warned.size(), name + ": exactly one warning, got " + warned);
                assertTrue(warned.get(0).contains(why), warned.get(0));
            }
        }
    }

    @Test
    void shouldAcceptAKafkaClientsDefaultPropertySetAtOnce() {
        Map<String, Object> props = new HashMap<>();
        for (String name : kafkaNames()) {
            props.put(name, kafkaValue(name));
        }
        ProducerConfig c = ProducerConfig.fromMap(props);
        // the honoured ones took kafka-clients' values
        assertEquals(16384, c.batchSize());
        assertEquals(Integer.MAX_VALUE, c.retries());
        assertEquals(50, c.reconnectBackoffMs());
        assertEquals(1000, c.reconnectBackoffMaxMs());
        assertEquals(131072, c.sendBufferBytes());
        assertEquals(32768, c.receiveBufferBytes());
        assertEquals(10_000, c.connectionSetupTimeoutMs());
        assertEquals(List.of("127.0.0.1:9092"), c.bootstrapServers());
        assertTrue(c.idempotence());
        // every other one warned about once
        for (String name : c.ignoredProperties().keySet()) {
            assertEquals(1, warningsNaming(name).size(), name);
        }
        Set<String> expectedIgnored = new TreeSet<>(kafkaNames());
        for (ProducerConfig.Option o : ProducerConfig.OPTIONS) {
            expectedIgnored.remove(o.name());
        }
        expectedIgnored.removeAll(HONOURED_AS_IS);
        assertEquals(expectedIgnored, c.ignoredProperties().keySet());
    }
}
