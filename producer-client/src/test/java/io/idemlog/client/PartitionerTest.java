package io.idemlog.client;

import io.idemlog.client.internal.Partitioner;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same key lands on the same partition as with kafka-clients' default partitioner. */
class PartitionerTest {
    @Test
    void shouldHashLikeKafkaForManyRandomKeys() {
        Random random = new Random(20240601);
        for (int i = 0; i < 200_000; i++) {
            byte[] key = new byte[random.nextInt(40)];
            random.nextBytes(key);
            int partitions = 1 + random.nextInt(200);
            assertEquals(Utils.murmur2(key), Partitioner.murmur2(key));
            assertEquals(BuiltInPartitioner.partitionForKey(key, partitions),
                Partitioner.partitionForKey(key, partitions), () -> "key of " + key.length + " bytes");
        }
    }

    @Test
    void shouldPartitionStringKeysLikeKafka() {
        for (int i = 0; i < 10_000; i++) {
            byte[] key = ("order-" + i).getBytes(StandardCharsets.UTF_8);
            for (int partitions : new int[] {1, 3, 8, 12, 100}) {
                assertEquals(Utils.toPositive(Utils.murmur2(key)) % partitions,
                    Partitioner.partitionForKey(key, partitions));
            }
        }
    }

    @Test
    void shouldMaskTheSignBitInsteadOfTakingTheAbsoluteValue() {
        assertEquals(0, Partitioner.toPositive(Integer.MIN_VALUE));
        assertEquals(Utils.toPositive(-5), Partitioner.toPositive(-5));
    }

    @Test
    void shouldHashTheEmptyKeyLikeKafka() {
        assertEquals(Utils.murmur2(new byte[0]), Partitioner.murmur2(new byte[0]));
    }

    @Test
    void shouldMoveTheStickyPartitionToAnotherOne() {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            int next = Partitioner.nextSticky(3, 8);
            assertNotEquals(3, next);
            assertTrue(next >= 0 && next < 8);
            seen.add(next);
        }
        assertEquals(7, seen.size(), "every other partition is chosen sometimes");
        assertEquals(0, Partitioner.nextSticky(0, 1));
    }
}
