package io.idemlog.clientit;

import io.idemlog.client.FatalProducerException;
import io.idemlog.client.IdemlogProducer;
import io.idemlog.client.ProducerConfig;
import io.idemlog.client.ProducerException;
import io.idemlog.client.RecordMetadata;
import io.idemlog.testkit.KafkaBroker;
import io.idemlog.testkit.LogReader;
import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stable producer identity (producer.name, docs/DEDUP.md): two instances with one name: the older one fails with a
 * fenced error (INVALID_PRODUCER_EPOCH, fatal) and writes nothing more, the newer one writes; the identity survives a
 * SIGKILL of the server (a third instance after the restart fences the second). Control: two unnamed instances both
 * keep writing. Against Apache Kafka a named producer fails clearly at its first InitProducerId.
 */
@Tag("slow")
@Timeout(300)
class NamedProducerTest {
    private static final String TOPIC = "named";

    @TempDir
    Path dir;

    private static IdemlogProducer producer(String bootstrap, String name) {
        Properties p = ClientRuns.config(bootstrap, true);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS, "20000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS, "10000");
        if (name != null) {
            p.put(ProducerConfig.PRODUCER_NAME, name);
        }
        return IdemlogProducer.create(p);
    }

    private static RecordMetadata send(IdemlogProducer producer, String value) throws Exception {
        return producer.send(TOPIC, 0, null, value.getBytes(StandardCharsets.UTF_8), null).get(30, TimeUnit.SECONDS);
    }

    private static Throwable sendFails(IdemlogProducer producer, String value) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> send(producer, value));
        return e.getCause();
    }

    private static long count(ServerProcess server) throws Exception {
        try (LogReader reader = new LogReader(server.address())) {
            return reader.read(TOPIC, 0, r -> { });
        }
    }

    @Test
    void theNewerInstanceOfANameFencesTheOlderAlsoAfterAServerSigkill() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":1")
            .logFile(dir.resolve("server.log"))
            .start()) {
            IdemlogProducer first = producer(server.bootstrap(), "orders-app");
            send(first, "first-1");
            IdemlogProducer second = producer(server.bootstrap(), "orders-app");
            send(second, "second-1");
            Throwable fenced = sendFails(first, "first-2");
            assertInstanceOf(FatalProducerException.class, fenced, String.valueOf(fenced));
            assertEquals(47, ((FatalProducerException) fenced).errorCode(), "INVALID_PRODUCER_EPOCH");
            send(second, "second-2");
            assertEquals(3, count(server), "the fenced instance wrote nothing more");
            first.close();

            server.kill();
            server.start();
            send(second, "second-3"); // the second instance is still the newest: it goes on after the restart
            IdemlogProducer third = producer(server.bootstrap(), "orders-app");
            send(third, "third-1");
            Throwable fencedAgain = sendFails(second, "second-4");
            assertInstanceOf(FatalProducerException.class, fencedAgain, String.valueOf(fencedAgain));
            assertEquals(5, count(server));
            second.close();
            third.close();
        }
    }

    @Test
    void controlTwoUnnamedInstancesBothKeepWriting() throws Exception {
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", TOPIC + ":1")
            .logFile(dir.resolve("server.log"))
            .start();
             IdemlogProducer first = producer(server.bootstrap(), null);
             IdemlogProducer second = producer(server.bootstrap(), null)) {
            send(first, "a");
            send(second, "b");
            send(first, "c");
            assertEquals(3, count(server), "without a name nothing is fenced");
        }
    }

    @Test
    void againstApacheKafkaANamedProducerFailsClearly() throws Exception {
        try (KafkaBroker kafka = KafkaBroker.builder(dir.resolve("kafka")).numPartitions(1).start()) {
            kafka.createTopic(TOPIC);
            try (IdemlogProducer named = producer(kafka.bootstrap(), "orders-app")) {
                Throwable failure = sendFails(named, "x");
                assertInstanceOf(ProducerException.class, failure);
                assertTrue(failure.getMessage().contains("needs an idemlog server"), failure.getMessage());
            }
        }
    }
}
