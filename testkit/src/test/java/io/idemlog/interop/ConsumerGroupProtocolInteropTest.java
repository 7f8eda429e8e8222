package io.idemlog.interop;

import io.idemlog.testkit.ServerProcess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What kafka-clients 4.x's {@code group.protocol=consumer} (KIP-848, ConsumerGroupHeartbeat, API 68) does against
 * idemlog, which serves the classic protocol only and does not advertise API 68: the consumer's poll fails at once
 * with UnsupportedVersionException telling the user to set group.protocol=classic (no hang, nothing consumed).
 * The default, {@code group.protocol=classic}, is what works (GroupConsumersInteropTest).
 */
class ConsumerGroupProtocolInteropTest {
    @TempDir
    Path dir;

    @Test
    void theConsumerProtocolFailsClearlyBecauseTheServerDoesNotAdvertiseConsumerGroupHeartbeat() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data")).override("create.topics", "t:1")
            .logFile(dir.resolve("server.log")).start()) {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "g848",
                ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of("t"));
                UnsupportedVersionException e = assertThrows(UnsupportedVersionException.class, () -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (System.nanoTime() < deadline) {
                        consumer.poll(Duration.ofMillis(200));
                    }
                });
                // kafka-clients 4.1: "The cluster does not support the new CONSUMER group protocol. Set
                // group.protocol=classic on the consumer configs to revert to the CLASSIC protocol ..."
                assertTrue(String.valueOf(e.getMessage()).contains("group.protocol=classic"), e.getMessage());
            }
        }
    }
}
