package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.ProtocolException;
import io.idemlog.common.protocol.RequestHeader;
import io.idemlog.common.protocol.ResponseHeader;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.common.protocol.message.Message;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * One blocking Kafka-protocol connection: sends a request built with the common codec, waits for its response and
 * checks the correlation id. On connect it negotiates versions with ApiVersions, as every Kafka client does, so
 * {@link #version} can pick for each API the highest version both sides speak.
 *
 * <p>Meant for tools and tests (probes, {@link LogReader}), not for throughput: one request in flight.
 * Not thread-safe.
 */
public final class WireConnection implements AutoCloseable {
    /** Decodes a response body; the static {@code read} methods of the common message classes fit. */
    @FunctionalInterface
    public interface ResponseParser<T> {
        /** Reads the body of a response of the given version. */
        T read(WireReader reader, short version);
    }

    /** Largest response frame accepted; a larger size prefix means the stream is not Kafka. */
    public static final int MAX_FRAME_BYTES = 256 * 1024 * 1024;
    private static final short API_VERSIONS_PREFERRED = 3;
    private static final String CLIENT_ID = "idemlog-testkit";

    private final InetSocketAddress address;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Map<ApiKey, ApiVersionsResponse.ApiVersion> serverVersions = new EnumMap<>(ApiKey.class);
    private int nextCorrelationId;

    private WireConnection(InetSocketAddress address, Socket socket) throws IOException {
        this.address = address;
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /**
     * Connects and negotiates API versions. {@code timeout} bounds the connect and every later read.
     *
     * @throws IOException when the server cannot be reached or does not answer ApiVersions
     */
    public static WireConnection connect(InetSocketAddress address, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            WireConnection connection = new WireConnection(address, socket);
            connection.negotiateVersions();
            return connection;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The address this connection was opened to. */
    public InetSocketAddress address() {
        return address;
    }

    /**
     * The version to use for {@code api}: the highest that both the server and the common codec support, capped at
     * {@code highestWanted}.
     *
     * @throws IllegalStateException when the server does not offer the API in a version the codec can encode
     */
    public short version(ApiKey api, short highestWanted) {
        ApiVersionsResponse.ApiVersion server = serverVersions.get(api);
        if (server == null) {
            throw new IllegalStateException(address + " does not offer " + api);
        }
        short max = (short) Math.min(Math.min(server.maxVersion, api.maxVersion), highestWanted);
        short min = (short) Math.max(server.minVersion, api.minVersion);
        if (max < min) {
            throw new IllegalStateException(address + " offers " + api + " v" + server.minVersion + "-"
                + server.maxVersion + ", the codec v" + api.minVersion + "-" + api.maxVersion);
        }
        return max;
    }

    /**
     * Sends one request and returns its decoded response.
     *
     * @throws IOException on a network error, a timeout, or a response that does not belong to the request
     */
    public <T> T request(ApiKey api, short version, Message body, ResponseParser<T> parser) throws IOException {
        int correlationId = send(api, version, body);
        WireReader reader = receive(api, version, correlationId);
        try {
            return parser.read(reader, version);
        } catch (ProtocolException e) {
            throw new IOException("malformed " + api + " v" + version + " response from " + address, e);
        }
    }

    private int send(ApiKey api, short version, Message body) throws IOException {
        int correlationId = nextCorrelationId++;
        WireWriter writer = new WireWriter(256);
        writer.writeInt32(0);
        new RequestHeader(api, version, correlationId, CLIENT_ID).write(writer);
        body.write(writer, version);
        ByteBuffer frame = writer.toFlatBuffer();
        frame.putInt(0, frame.remaining() - 4);
        out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        out.flush();
        return correlationId;
    }

    private WireReader receive(ApiKey api, short version, int expectedCorrelationId) throws IOException {
        int size = in.readInt();
        if (size < 4 || size > MAX_FRAME_BYTES) {
            throw new IOException("bad response frame size " + size + " from " + address);
        }
        byte[] bytes = new byte[size];
        in.readFully(bytes);
        WireReader reader = new WireReader(ByteBuffer.wrap(bytes));
        int correlationId;
        try {
            correlationId = ResponseHeader.read(reader, api.responseHeaderVersion(version));
        } catch (ProtocolException e) {
            throw new IOException("malformed response header from " + address, e);
        }
        if (correlationId != expectedCorrelationId) {
            throw new IOException("response correlation id " + correlationId + " from " + address + ", expected "
                + expectedCorrelationId);
        }
        return reader;
    }

    /**
     * ApiVersions as the Java client does it: try a flexible version first; a server that does not know it answers
     * error UNSUPPORTED_VERSION in the v0 layout, and the request is repeated at v0.
     */
    private void negotiateVersions() throws IOException {
        ApiVersionsResponse response = apiVersions(API_VERSIONS_PREFERRED);
        if (response.errorCode == ErrorCode.UNSUPPORTED_VERSION.code) {
            response = apiVersions((short) 0);
        }
        if (response.errorCode != ErrorCode.NONE.code) {
            throw new IOException("ApiVersions failed on " + address + ": error " + response.errorCode);
        }
        for (ApiVersionsResponse.ApiVersion v : response.apiKeys) {
            ApiKey api = ApiKey.forId(v.apiKey);
            if (api != null) {
                serverVersions.put(api, v);
            }
        }
    }

    private ApiVersionsResponse apiVersions(short version) throws IOException {
        ApiVersionsRequest request = new ApiVersionsRequest();
        request.clientSoftwareName = CLIENT_ID;
        request.clientSoftwareVersion = "1";
        int correlationId = send(ApiKey.API_VERSIONS, version, request);
        WireReader reader = receive(ApiKey.API_VERSIONS, version, correlationId);
        int bodyStart = reader.position();
        try {
            return ApiVersionsResponse.read(reader, version);
        } catch (ProtocolException e) {
            if (version == 0) {
                throw new IOException("malformed ApiVersions response from " + address, e);
            }
            // a server that does not know this version answers in the v0 layout (KIP-511)
            reader.wrap(reader.buffer(), bodyStart, reader.buffer().limit());
            return ApiVersionsResponse.read(reader, (short) 0);
        }
    }

    /** Closes the socket; idempotent. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    @Override
    public String toString() {
        return "WireConnection(" + address + ")";
    }
}
