package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.MetadataResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class MetadataRewriterTest {
    private static MetadataResponse response() {
        MetadataResponse m = new MetadataResponse();
        m.brokers.add(new MetadataResponse.Broker(1, "broker-one.example", 9092));
        MetadataResponse.Broker two = new MetadataResponse.Broker(2, "10.1.2.3", 19092);
        two.rack = "rack-b";
        m.brokers.add(two);
        m.clusterId = "cluster";
        m.controllerId = 2;
        MetadataResponse.Topic t = new MetadataResponse.Topic();
        t.name = "events";
        MetadataResponse.Partition p = new MetadataResponse.Partition();
        p.partitionIndex = 0;
        p.leaderId = 2;
        p.replicaNodes = new int[] {2, 1};
        p.isrNodes = new int[] {2};
        t.partitions.add(p);
        m.topics.add(t);
        return m;
    }

    private static ByteBuffer frame(short version, MetadataResponse body) {
        WireWriter w = new WireWriter();
        w.writeInt32(0);
        ResponseHeader.write(w, 77, ApiKey.METADATA.responseHeaderVersion(version));
        body.write(w, version);
        ByteBuffer frame = w.toFlatBuffer();
        frame.putInt(0, frame.remaining() - 4);
        return frame;
    }

    private static MetadataResponse parse(ByteBuffer frame, short version) {
        WireReader r = new WireReader().wrap(frame, frame.position() + 4, frame.limit());
        assertEquals(77, ResponseHeader.read(r, ApiKey.METADATA.responseHeaderVersion(version)));
        MetadataResponse m = MetadataResponse.read(r, version);
        r.expectEnd();
        return m;
    }

    @ParameterizedTest
    @ValueSource(shorts = {0, 1, 3, 7, 8, 9})
    void shouldPointEveryBrokerAtTheProxyAndKeepEverythingElse(short version) {
        ByteBuffer rewritten = MetadataRewriter.rewrite(frame(version, response()), version, "127.0.0.1", 4242);
        assertEquals(rewritten.remaining() - 4, rewritten.getInt(rewritten.position()));
        MetadataResponse m = parse(rewritten, version);
        assertEquals(2, m.brokers.size());
        for (MetadataResponse.Broker b : m.brokers) {
            assertEquals("127.0.0.1", b.host);
            assertEquals(4242, b.port);
        }
        assertEquals(2, m.brokers.get(1).nodeId);
        if (version >= 1) {
            assertEquals("rack-b", m.brokers.get(1).rack);
        }
        MetadataResponse.Partition p = m.findTopic("events").partitions.get(0);
        assertEquals(2, p.leaderId);
        assertArrayEquals(new int[] {2, 1}, p.replicaNodes);
    }

    @ParameterizedTest
    @ValueSource(shorts = {10, 12, 13})
    void shouldCopyWhatFollowsTheBrokersVerbatimInVersionsTheCodecDoesNotDecode(short version) {
        // a v13 body: the v9 layout up to the brokers, then fields the codec does not know, here arbitrary bytes
        MetadataResponse head = new MetadataResponse();
        head.brokers.add(new MetadataResponse.Broker(1, "far.away", 1));
        ByteBuffer v9 = frame((short) 9, head);
        byte[] tail = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        int brokersEnd = v9.limit() - 1 - 4 - 1 - 4 - 1; // cluster_id, controller_id, topics, cluster ops, tags
        ByteBuffer frame = ByteBuffer.allocate(brokersEnd + tail.length);
        frame.put(v9.duplicate().limit(brokersEnd)).put(tail).flip();
        frame.putInt(0, frame.remaining() - 4);

        ByteBuffer rewritten = MetadataRewriter.rewrite(frame, version, "127.0.0.1", 4242);
        byte[] copied = new byte[tail.length];
        rewritten.get(rewritten.limit() - tail.length, copied);
        assertArrayEquals(tail, copied);
        WireReader r = new WireReader().wrap(rewritten, 4, rewritten.limit());
        ResponseHeader.read(r, (short) 1);
        r.readInt32();
        assertEquals(1, r.readNonNullArrayLength(true, 10));
        assertEquals(1, r.readInt32());
        assertEquals("127.0.0.1", r.readString(true));
        assertEquals(4242, r.readInt32());
    }
}
