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
    void snapshotVersion2CarriesTheBrokers() {
        ClusterImage i = sample();
        ClusterImage back = ClusterImage.decode(ByteBuffer.wrap(i.encode()), ClusterImage.SNAPSHOT_V2);
        assertEquals(i, back);
        assertEquals(2, back.brokers().size());
        assertEquals(4, back.topic("t").partitions().get(1).leaderEpoch());
        byte[] bytes = i.encode();
        for (int cut = 0; cut < bytes.length; cut += 3) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThrows(RuntimeException.class,
                () -> ClusterImage.decode(ByteBuffer.wrap(truncated), ClusterImage.SNAPSHOT_V2), "cut at " + cut);
        }
    }

    @Test
    void aVersion1SnapshotWithoutBrokersStillDecodes() {
        ClusterImage withBrokers = sample();
        // version 1 = version 2 without the trailing broker list (the format before BrokerRegistered)
        ClusterImage noBrokers = ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), ClusterImage.SNAPSHOT_V2);
        byte[] v2 = stripBrokers(noBrokers);
        ClusterImage v1 = ClusterImage.decode(ByteBuffer.wrap(v2, 0, v2.length - 4).slice(), ClusterImage.SNAPSHOT_V1);
        assertEquals(withBrokers.topics(), v1.topics());
        assertEquals(withBrokers.nextProducerId(), v1.nextProducerId());
        assertTrue(v1.brokers().isEmpty());
        // version 2 bytes read as version 1 are refused (trailing bytes), not misread
        assertThrows(IllegalArgumentException.class,
            () -> ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), ClusterImage.SNAPSHOT_V1));
        assertThrows(IllegalArgumentException.class,
            () -> ClusterImage.decode(ByteBuffer.wrap(withBrokers.encode()), 3));
    }

    /** The encoding of the image's topics with an empty broker list (ends with the count 0). */
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
        assertEquals(0, ByteBuffer.wrap(b, b.length - 4, 4).getInt());
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
        assertEquals(grown, ClusterImage.decode(ByteBuffer.wrap(grown.encode()), ClusterImage.SNAPSHOT_V2));
        byte[] bad = ClusterImage.partitionsAdded(id, 4, List.of(List.of(1, 2)));
        for (int cut = 1; cut < bad.length; cut++) {
            byte[] truncated = Arrays.copyOf(bad, cut);
            ClusterImage g = grown;
            assertThrows(IllegalArgumentException.class, () -> apply(g, truncated), "truncated at " + cut);
        }
    }
}
