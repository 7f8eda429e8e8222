package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link ProduceRequest#readInto}: requests decoded one after the other into the same object give each its own
 * values, exactly those {@link ProduceRequest#read} gives; the records views are never shared between requests.
 */
class ProduceRequestReuseTest {
    /** Records stand-ins: any bytes (the codec frames them, it does not parse them). */
    private static MemoryRecords records(int size, int fill) {
        byte[] b = new byte[size];
        java.util.Arrays.fill(b, (byte) fill);
        return new MemoryRecords(ByteBuffer.wrap(b));
    }

    /** A request: {@code shape[i]} = {topic name, partition indexes...}. */
    private static ProduceRequest request(String transactionalId, short acks, int timeoutMs, Object[]... shape) {
        ProduceRequest m = new ProduceRequest();
        m.transactionalId = transactionalId;
        m.acks = acks;
        m.timeoutMs = timeoutMs;
        int fill = 1;
        for (Object[] topic : shape) {
            ProduceRequest.TopicData t = new ProduceRequest.TopicData((String) topic[0]);
            for (int i = 1; i < topic.length; i++) {
                t.partitions.add(new ProduceRequest.PartitionData((Integer) topic[i], records(10 + fill, fill)));
                fill++;
            }
            m.topics.add(t);
        }
        return m;
    }

    private static ByteBuffer encode(ProduceRequest m, short version) {
        WireWriter w = new WireWriter(64);
        m.write(w, version);
        return w.toFlatBuffer();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Same values as {@code expected} (what read decodes). */
    private static void assertSameValues(ProduceRequest expected, ProduceRequest actual) {
        assertEquals(expected.transactionalId, actual.transactionalId);
        assertEquals(expected.acks, actual.acks);
        assertEquals(expected.timeoutMs, actual.timeoutMs);
        assertEquals(expected.taggedFields, actual.taggedFields);
        assertEquals(expected.topics.size(), actual.topics.size());
        for (int t = 0; t < expected.topics.size(); t++) {
            ProduceRequest.TopicData et = expected.topics.get(t);
            ProduceRequest.TopicData at = actual.topics.get(t);
            assertEquals(et.name, at.name);
            assertEquals(et.taggedFields, at.taggedFields);
            assertEquals(et.partitions.size(), at.partitions.size());
            for (int p = 0; p < et.partitions.size(); p++) {
                ProduceRequest.PartitionData ep = et.partitions.get(p);
                ProduceRequest.PartitionData ap = at.partitions.get(p);
                assertEquals(ep.index, ap.index);
                assertEquals(ep.taggedFields, ap.taggedFields);
                assertArrayEquals(bytes(((MemoryRecords) ep.records).buffer()),
                    bytes(((MemoryRecords) ap.records).buffer()));
            }
        }
    }

    @Test
    void requestsDecodedOneAfterTheOtherIntoOneObjectGetEachTheirOwnValues() {
        for (short version : new short[] {3, 8, 9}) {
            List<ProduceRequest> sent = new ArrayList<>();
            sent.add(request(null, (short) -1, 30_000, new Object[] {"orders", 0, 1, 2}));
            sent.add(request("tx", (short) 1, 5_000, new Object[] {"events", 7}, new Object[] {"orders", 2, 0}));
            sent.add(request(null, (short) 0, 1, new Object[] {"orders", 1}));
            sent.add(request(null, (short) -1, 2, new Object[] {"orders2", 3, 4, 5, 6, 7},
                new Object[] {"évènements", 0}, new Object[] {"events", 1}));
            sent.add(request(null, (short) -1, 3));
            sent.add(request(null, (short) -1, 4, new Object[] {"orders", 0, 1, 2}));
            if (version >= 9) {
                ProduceRequest tagged = request(null, (short) -1, 5, new Object[] {"orders", 0});
                tagged.taggedFields = new RawTaggedFields();
                tagged.taggedFields.add(3, new byte[] {1});
                tagged.topics.get(0).taggedFields = new RawTaggedFields();
                tagged.topics.get(0).taggedFields.add(4, new byte[] {2});
                tagged.topics.get(0).partitions.get(0).taggedFields = new RawTaggedFields();
                tagged.topics.get(0).partitions.get(0).taggedFields.add(5, new byte[] {3});
                sent.add(tagged);
                sent.add(request(null, (short) -1, 6, new Object[] {"orders", 0}));
            }
            ProduceRequest reused = new ProduceRequest();
            List<ProduceRequest> viewsOfEarlier = new ArrayList<>();
            List<List<MemoryRecords>> recordsOfEarlier = new ArrayList<>();
            for (ProduceRequest m : sent) {
                ByteBuffer wire = encode(m, version);
                ProduceRequest decoded = ProduceRequest.readInto(new WireReader(wire), version, reused);
                assertSame(reused, decoded);
                assertSameValues(ProduceRequest.read(new WireReader(wire), version), decoded);
                // The records views of an earlier request are its own: the later decodes did not touch them.
                List<MemoryRecords> views = new ArrayList<>();
                for (ProduceRequest.TopicData t : decoded.topics) {
                    for (ProduceRequest.PartitionData p : t.partitions) {
                        views.add((MemoryRecords) p.records);
                    }
                }
                recordsOfEarlier.add(views);
                viewsOfEarlier.add(m);
            }
            for (int i = 0; i < sent.size(); i++) {
                int k = 0;
                for (ProduceRequest.TopicData t : viewsOfEarlier.get(i).topics) {
                    for (ProduceRequest.PartitionData p : t.partitions) {
                        assertArrayEquals(bytes(((MemoryRecords) p.records).buffer()),
                            bytes(recordsOfEarlier.get(i).get(k++).buffer()), "request " + i + " v" + version);
                    }
                }
            }
        }
    }

    @Test
    void anUnchangedTopicNameIsTheSameStringAndAChangedOneIsNew() {
        short version = 9;
        ProduceRequest reused = new ProduceRequest();
        ProduceRequest.readInto(new WireReader(encode(request(null, (short) -1, 1,
            new Object[] {"orders", 0}, new Object[] {"events", 0}), version)), version, reused);
        String orders = reused.topics.get(0).name;
        String events = reused.topics.get(1).name;
        ProduceRequest.readInto(new WireReader(encode(request(null, (short) -1, 1,
            new Object[] {"orders", 1}, new Object[] {"events", 2}), version)), version, reused);
        assertSame(orders, reused.topics.get(0).name);
        assertSame(events, reused.topics.get(1).name);
        ProduceRequest.readInto(new WireReader(encode(request(null, (short) -1, 1,
            new Object[] {"events", 1}, new Object[] {"orderz", 2}), version)), version, reused);
        assertEquals("events", reused.topics.get(0).name);
        assertEquals("orderz", reused.topics.get(1).name);
        assertNotSame(events, reused.topics.get(0).name); // another place: decoded anew (equal, not reused)
    }

    @Test
    void aMalformedRequestLeavesNothingForTheNextOne() {
        short version = 9;
        ProduceRequest reused = new ProduceRequest();
        ByteBuffer good = encode(request(null, (short) -1, 1, new Object[] {"orders", 0, 1}), version);
        ByteBuffer cut = good.duplicate().limit(good.limit() - 3);
        assertThrows(ProtocolException.class, () -> ProduceRequest.readInto(new WireReader(cut), version, reused));
        reused.forgetRecords();
        ProduceRequest next = request("tx", (short) 1, 2, new Object[] {"events", 4});
        ByteBuffer wire = encode(next, version);
        ProduceRequest.readInto(new WireReader(wire), version, reused);
        assertSameValues(ProduceRequest.read(new WireReader(wire), version), reused);
    }

    @Test
    void forgetRecordsDropsTheViewsButKeepsTheShape() {
        short version = 9;
        ProduceRequest reused = new ProduceRequest();
        ProduceRequest.readInto(new WireReader(encode(request(null, (short) -1, 1,
            new Object[] {"orders", 0, 1}), version)), version, reused);
        reused.forgetRecords();
        assertEquals(2, reused.topics.get(0).partitions.size());
        for (ProduceRequest.PartitionData p : reused.topics.get(0).partitions) {
            assertNull(p.records);
        }
    }

    @Test
    void aHugeRequestIsDecodedButNotKeptWhole() {
        short version = 9;
        int n = ProduceRequest.MAX_REUSED * 3;
        Object[] many = new Object[n + 1];
        many[0] = "orders";
        for (int i = 0; i < n; i++) {
            many[i + 1] = i;
        }
        ProduceRequest reused = new ProduceRequest();
        ProduceRequest huge = request(null, (short) -1, 1, many);
        ByteBuffer wire = encode(huge, version);
        ProduceRequest.readInto(new WireReader(wire), version, reused);
        assertSameValues(ProduceRequest.read(new WireReader(wire), version), reused);
        ProduceRequest small = request(null, (short) -1, 1, new Object[] {"orders", 5});
        wire = encode(small, version);
        ProduceRequest.readInto(new WireReader(wire), version, reused);
        assertSameValues(ProduceRequest.read(new WireReader(wire), version), reused);
        ProduceRequest.readInto(new WireReader(encode(huge, version)), version, reused);
        assertSameValues(ProduceRequest.read(new WireReader(encode(huge, version)), version), reused);
    }
}
