package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.ProduceRequest;
import io.idemlog.common.record.Header;
import io.idemlog.common.record.RecordBatchBuilder;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A test client that pipelines raw Kafka requests and reads raw responses, to observe exactly what crosses a
 * {@link FaultProxy}: which responses arrive, in which order, and when the connection is reset.
 */
final class RawClient implements AutoCloseable {
    /** A response frame: its correlation id and the bytes after the size prefix. */
    record Response(int correlationId, ByteBuffer frame) {
        /** The body, after a response header of the given version. */
        WireReader body(short headerVersion) {
            WireReader reader = new WireReader(frame.duplicate());
            ResponseHeader.read(reader, headerVersion);
            return reader;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextCorrelationId;

    RawClient(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5_000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = socket.getOutputStream();
    }

    /** Sends a request; returns its correlation id. */
    int send(ApiKey api, short version, Message body) throws IOException {
        int correlationId = nextCorrelationId++;
        WireWriter writer = new WireWriter();
        writer.writeInt32(0);
        new RequestHeader(api, version, correlationId, "raw-client").write(writer);
        body.write(writer, version);
        ByteBuffer frame = writer.toFlatBuffer();
        frame.putInt(0, frame.remaining() - 4);
        out.write(frame.array(), frame.position(), frame.remaining());
        out.flush();
        return correlationId;
    }

    int sendApiVersions() throws IOException {
        return send(ApiKey.API_VERSIONS, (short) 3, apiVersionsRequest());
    }

    int sendMetadata(short version, String topic) throws IOException {
        MetadataRequest request = new MetadataRequest();
        request.topics = List.of(topic);
        return send(ApiKey.METADATA, version, request);
    }

    int sendProduce(short acks) throws IOException {
        return send(ApiKey.PRODUCE, (short) 9, produceRequest(acks));
    }

    /** Reads the next response frame; throws IOException (EOF or reset) when the connection ends. */
    Response read() throws IOException {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        return new Response(ByteBuffer.wrap(frame).getInt(0), ByteBuffer.wrap(frame));
    }

    static ApiVersionsRequest apiVersionsRequest() {
        ApiVersionsRequest request = new ApiVersionsRequest();
        request.clientSoftwareName = "raw-client";
        request.clientSoftwareVersion = "1";
        return request;
    }

    /** A Produce request with one small batch for topic "t", partition 0. */
    static ProduceRequest produceRequest(short acks) {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        RecordBatchBuilder builder = new RecordBatchBuilder().init(buffer, 0, buffer.capacity());
        builder.tryAppend(1L, null, "v".getBytes(StandardCharsets.US_ASCII), new Header[0]);
        int size = builder.close();
        ProduceRequest request = new ProduceRequest();
        request.acks = acks;
        request.timeoutMs = 30_000;
        ProduceRequest.TopicData topic = new ProduceRequest.TopicData("t");
        topic.partitions.add(new ProduceRequest.PartitionData(0, new MemoryRecords(buffer.slice(0, size))));
        request.topics.add(topic);
        return request;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
