package io.idemlog.server;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.Message;
import io.idemlog.common.protocol.message.Messages;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/** A blocking Kafka-protocol client for server tests: raw frames in, decoded messages out. */
public final class WireClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextCorrelationId = 1;

    public WireClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Encodes a request (header + body) as a frame without its size prefix. */
    public static byte[] encode(ApiKey api, short version, int correlationId, Message body) {
        WireWriter w = new WireWriter();
        new RequestHeader(api, version, correlationId, "test-client").write(w);
        body.write(w, version);
        ByteBuffer b = w.toFlatBuffer();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    public int send(ApiKey api, short version, Message body) throws IOException {
        int id = nextCorrelationId++;
        sendFrame(encode(api, version, id, body));
        return id;
    }

    public void sendFrame(byte[] frame) throws IOException {
        byte[] prefixed = new byte[frame.length + 4];
        ByteBuffer.wrap(prefixed).putInt(frame.length).put(frame);
        out.write(prefixed);
        out.flush();
    }

    public void sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public byte[] receiveFrame() throws IOException {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        return frame;
    }

    /** Reads one answer; checks its correlation id and decodes the body. */
    @SuppressWarnings("unchecked")
    public <T extends Message> T receive(ApiKey api, short version, int expectedCorrelationId) throws IOException {
        WireReader r = new WireReader(ByteBuffer.wrap(receiveFrame()));
        int correlationId = ResponseHeader.read(r, api.responseHeaderVersion(version));
        if (correlationId != expectedCorrelationId) {
            throw new IllegalStateException("correlation id " + correlationId + ", expected " + expectedCorrelationId);
        }
        T body = (T) Messages.readResponse(api, r, version);
        if (r.hasRemaining()) {
            throw new IllegalStateException(r.remaining() + " undecoded bytes in " + api + " v" + version);
        }
        return body;
    }

    public <T extends Message> T call(ApiKey api, short version, Message body) throws IOException {
        int id = send(api, version, body);
        return receive(api, version, id);
    }

    /** True when the server closed the connection within the timeout (EOF or reset), false when it stays open. */
    public boolean closedByPeer(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            int b = in.read();
            return b < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } finally {
            socket.setSoTimeout(10_000);
        }
    }

    /**
     * True when nothing at all arrives (no byte, no close) within the timeout. Unlike {@link #closedByPeer}, an
     * answer arriving makes this false.
     */
    public boolean silentFor(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            in.read();
            return false;
        } catch (EOFException | java.net.SocketException e) {
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } finally {
            socket.setSoTimeout(10_000);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
