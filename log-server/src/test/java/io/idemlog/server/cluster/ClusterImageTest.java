package io.idemlog.server.cluster;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ClusterImage's pure apply of broker registrations and the versioned snapshot encoding. */
class ClusterImageTest {
    private static ClusterImage.Result apply(ClusterImage image, byte[] entry) {
        return image.apply(ByteBuffer.wrap(entry));
    }

    private static ClusterImage applied(ClusterImage image, byte[] entry) {
        ClusterImage.Result r = apply(image, entry);
        assertTrue(r.accepted(), r.message());
        return r.image();
    }

    @Test
    void theImageKeepsTheLatestRegistrationPerNode() {
        ClusterImage i = applied(ClusterImage.EMPTY, ClusterImage.brokerRegistered(2, "127.0.0.1", 9092));
        i = applied(i, ClusterImage.brokerRegistered(1, "127.0.0.1", 9091));
        assertEquals(List.of(1, 2), List.copyOf(i.brokers().keySet()));
        ClusterImage moved = applied(i, ClusterImage.brokerRegistered(2, "localhost", 19092));
        assertEquals(new ClusterImage.BrokerState(2, "localhost", 19092), moved.broker(2));
        assertEquals(2, moved.brokers().size());
        assertEquals(new ClusterImage.BrokerState(2, "127.0.0.1", 9092), i.broker(2), "images are immutable");
        // a restart re-registers with the same listener: accepted, nothing changes
        ClusterImage.Result again = apply(moved, ClusterImage.brokerRegistered(2, "localhost", 19092));
        assertTrue(again.accepted());
        assertSame(moved, again.image());
    }

    @Test
    void badRegistrationsAreRefusedOrRejectedAsDamage() {
        ClusterImage.Result r = apply(ClusterImage.EMPTY, ClusterImage.brokerRegistered(1, "h", 0));
        assertFalse(r.accepted());
        assertTrue(r.message().contains("port 0"), r.message());
        assertSame(ClusterImage.EMPTY, r.image());
        assertFalse(apply(ClusterImage.EMPTY, ClusterImage.brokerRegistered(-3, "h", 1)).accepted());
        assertThrows(IllegalArgumentException.class, () -> ClusterImage.brokerRegistered(1, "", 1));
        byte[] ok = ClusterImage.brokerRegistered(1, "host", 9);
        for (int cut = 1; cut < ok.length; cut++) {
            byte[] truncated = Arrays.copyOf(ok, cut);
            assertThrows(IllegalArgumentException.class, () -> apply(ClusterImage.EMPTY, truncated),
                "truncated at " + cut);
        }
        byte[] longHost = ok.clone();
        longHost[5] = (byte) 0x7f; // host length beyond the entry
        assertThrows(IllegalArgumentException.class, () -> apply(ClusterImage.EMPTY, longHost));
    }

    private static ClusterImage sample() {
        ClusterImage i = applied(ClusterImage.EMPTY, ClusterImage.createTopic("t", new UUID(1, 2),
            Map.of("retention.ms", "1000"), List.of(List.of(1, 2, 3), List.of(2, 3, 1))));
        i = applied(i, ClusterImage.leaderChanged(new UUID(1, 2), 1, 3, 4));
        i = applied(i, ClusterImage.producerIdBlock(1, 1000));
        i = applied(i, ClusterImage.brokerRegistered(3, "127.0.0.1", 9093));
        return applied(i, ClusterImage.brokerRegistered(1, "127.0.0.1", 9091));
    }

    @Test
    void snapshotVersion3CarriesTheBrokersAndTheNamedProducers() {
        ClusterImage i = applied(applied(applied(sample(), ClusterImage.namedProducer("billing", 10)),
            ClusterImage.namedProducer("billing", 10)), ClusterImage.namedProducer("shipping", 10));
        ClusterImage back = ClusterImage.decode(ByteBuffer.wrap(i.encode()), ClusterImage.SNAPSHOT_V3);
        assertEquals(i, back);
        assertEquals(2, back.brokers().size());
        assertEquals(4, back.topic("t").partitions().get(1).leaderEpoch());
        assertEquals(i.identities(), back.identities());
        assertEquals(16, back.identities().names().get("billing").epoch());
        assertEquals(3, back.identities().inits());
        byte[] bytes = i.encode();
        for (int cut = 0; cut < bytes.length; cut += 3) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThrows(RuntimeException.class,
                () -> ClusterImage.decode(ByteBuffer.wrap(truncated), ClusterImage.SNAPSHOT_V3), "cut at " + cut);
        }
    }

    @Test
    void aVersion2SnapshotWithoutNamedProducersStillDecodes() {
        ClusterImage i = sample();
        byte[] v3 = i.encode();
        // version 2 = version 3 without the trailing named producers (init count 8, names 4, retired 4 bytes)
        ClusterImage v2 = ClusterImage.decode(ByteBuffer.wrap(v3, 0, v3.length - 16).slice(), ClusterImage.SNAPSHOT_V2);
        assertEquals(i, v2);
        assertTrue(v2.identities().names().isEmpty());
        assertThrows(IllegalArgumentException.class,
            () -> ClusterImage.decode(ByteBuffer.wrap(v3), ClusterImage.SNAPSHOT_V2), "trailing bytes");
    }

    /**
     * A named producer gets one producer id for good (the first init takes the next unallocated id, so no block
     * handed out before or after holds it) at an epoch block above its earlier incarnations'; when its epochs run
     * out it gets a new id and the old one is retired; beyond the bound the least recently initialised name is
     * forgotten. The answer packs id and epoch.
     */
    @Test
    void aNamedProducerKeepsItsIdAtTheNextEpochBlockCutsOnlyTheIdsItTakes() {
        ClusterImage i = applied(ClusterImage.EMPTY, ClusterImage.producerIdBlock(1, 1000));
        ClusterImage.Result first = apply(i, ClusterImage.namedProducer("billing", 2));
        assertTrue(first.accepted());
        assertEquals(1000L << 16, first.value(), "id 1000, epoch 0");
        assertEquals(1001, first.image().nextProducerId());
        ClusterImage.Result again = apply(first.image(), ClusterImage.namedProducer("billing", 2));
        assertEquals(1000L << 16 | 16, again.value(), "the same id, the next epoch block");
        assertEquals(1001, again.image().nextProducerId());
        ClusterImage.Result block = apply(again.image(), ClusterImage.producerIdBlock(2, 1000));
        assertEquals(1001, block.value(), "the next block starts after the named id");

        // epochs run out: a new id, the old one retired
        ClusterImage j = again.image();
        for (int n = 0; n < 3000; n++) {
            ClusterImage.NamedProducer now = j.identities().names().get("billing");
            if (now.producerId() != 1000) {
                break;
            }
            j = applied(j, ClusterImage.namedProducer("billing", 2));
        }
        ClusterImage.NamedProducer moved = j.identities().names().get("billing");
        assertEquals(1001, moved.producerId());
        assertEquals(0, moved.epoch());
        assertEquals(java.util.Set.of(1000L), j.identities().retired());

        // the bound: the least recently initialised name goes
        ClusterImage k = applied(applied(first.image(), ClusterImage.namedProducer("shipping", 2)),
            ClusterImage.namedProducer("billing", 2));
        k = applied(k, ClusterImage.namedProducer("returns", 2));
        assertEquals(java.util.Set.of("billing", "returns"), k.identities().names().keySet());
        ClusterImage.Result back = apply(k, ClusterImage.namedProducer("shipping", 2));
        assertEquals(0, back.value() & 0xffff, "a forgotten name starts again at epoch 0");
        assertEquals(1003, back.value() >>> 16, "with a new id");

        assertThrows(IllegalArgumentException.class, () -> ClusterImage.namedProducer("", 2));
        byte[] ok = ClusterImage.namedProducer("x", 2);
        for (int cut = 1; cut < ok.length; cut++) {
            byte[] truncated = Arrays.copyOf(ok, cut);
            assertThrows(IllegalArgumentException.class, () -> apply(ClusterImage.EMPTY, truncated), "cut " + cut);
        }
    }

    @Test
    void aVersion1SnapshotWithoutBrokersStillDecodes() {
        ClusterImage withBrokers = sample();
        // version 1 = version 2 without the trailing broker list (the format before BrokerRegistered)
        ClusterImage noBrokers = ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), ClusterImage.SNAPSHOT_V3);
        byte[] v3 = stripBrokers(noBrokers);
        ClusterImage v1 = ClusterImage.decode(ByteBuffer.wrap(v3, 0, v3.length - 4 - 16).slice(),
            ClusterImage.SNAPSHOT_V1);
        assertEquals(withBrokers.topics(), v1.topics());
        assertEquals(withBrokers.nextProducerId(), v1.nextProducerId());
        assertTrue(v1.brokers().isEmpty());
        // version 2 bytes read as version 1 are refused (trailing bytes), not misread
        assertThrows(IllegalArgumentException.class,
            () -> ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), ClusterImage.SNAPSHOT_V1));
        assertThrows(IllegalArgumentException.class,
            () -> ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), 4));
    }

    /** The encoding of the image's topics with an empty broker list and no named producers (16 bytes after it). */
    private static byte[] stripBrokers(ClusterImage image) {
        ClusterImage topicsOnly = ClusterImage.EMPTY;
        for (ClusterImage.TopicState t : image.topics().values()) {
            List<List<Integer>> assignment = t.partitions().stream().map(ClusterImage.PartitionState::replicas)
                .toList();
            topicsOnly = applied(topicsOnly, ClusterImage.createTopic(t.name(), t.id(), t.configs(), assignment));
            for (int p = 0; p < t.partitions().size(); p++) {
                ClusterImage.PartitionState s = t.partitions().get(p);
                if (s.leaderEpoch() > 0) {
                    topicsOnly = applied(topicsOnly, ClusterImage.leaderChanged(t.id(), p, s.leader(), s.leaderEpoch()));
                }
            }
        }
        topicsOnly = applied(topicsOnly, ClusterImage.producerIdBlock(1, (int) image.nextProducerId()));
        byte[] b = topicsOnly.encode();
        assertEquals(0, ByteBuffer.wrap(b, b.length - 20, 4).getInt());
        return b;
    }

    @Test
    void partitionsAddedGrowTheTopicOnlyFromTheCountTheyWereProposedFor() {
        ClusterImage i = sample();
        UUID id = new UUID(1, 2);
        ClusterImage grown = applied(i, ClusterImage.partitionsAdded(id, 2, List.of(List.of(3, 1, 2), List.of(1, 2, 3))));
        ClusterImage.TopicState t = grown.topic("t");
        assertEquals(4, t.partitions().size());
        assertEquals(List.of(3, 1, 2), t.partitions().get(2).replicas());
        assertEquals(3, t.partitions().get(2).leader(), "leader = first replica until a LeaderChanged");
        assertEquals(0, t.partitions().get(3).leaderEpoch());
        assertEquals(4, t.partitions().get(1).leaderEpoch(), "the existing partitions are unchanged");
        assertEquals(Map.of("retention.ms", "1000"), t.configs());
        // a second request made for the old count (concurrent with the first) is refused: no double growth
        ClusterImage.Result stale = apply(grown, ClusterImage.partitionsAdded(id, 2, List.of(List.of(1, 2, 3))));
        assertFalse(stale.accepted());
        assertTrue(stale.message().contains("has 4 partitions, not the 2"), stale.message());
        assertFalse(apply(grown, ClusterImage.partitionsAdded(new UUID(9, 9), 4, List.of(List.of(1)))).accepted());
        // a LeaderChanged of a new partition applies; the snapshot carries the grown topic
        grown = applied(grown, ClusterImage.leaderChanged(id, 3, 2, 1));
        assertEquals(grown, ClusterImage.decode(ByteBuffer.wrap(grown.encode()), ClusterImage.SNAPSHOT_V3));
        byte[] bad = ClusterImage.partitionsAdded(id, 4, List.of(List.of(1, 2)));
        for (int cut = 1; cut < bad.length; cut++) {
            byte[] truncated = Arrays.copyOf(bad, cut);
            ClusterImage g = grown;
            assertThrows(IllegalArgumentException.class, () -> apply(g, truncated), "truncated at " + cut);
        }
    }
}
