package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.ApiVersionsRequest;
import io.idemlog.common.protocol.message.ApiVersionsResponse;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;

import java.util.regex.Pattern;

/**
 * ApiVersions: the list of {@link ApiKey} with their ranges. A too-new version is answered by the connection
 * itself (v0 error form) before it reaches here. v3+ requests must name the client software in Kafka's pattern,
 * else INVALID_REQUEST, as the broker does.
 */
final class ApiVersionsHandler implements ApiHandler {
    private static final Pattern SOFTWARE = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");

    private final ServerMetrics metrics;

    ApiVersionsHandler(ServerMetrics metrics) {
        this.metrics = metrics;
    }

    static ApiVersionsResponse supported() {
        ApiVersionsResponse rsp = new ApiVersionsResponse();
        for (ApiKey api : ApiKey.values()) {
            rsp.apiKeys.add(new ApiVersionsResponse.ApiVersion(api.id, advertisedMinVersion(api), api.maxVersion));
        }
        return rsp;
    }

    /**
     * The lowest version advertised: the one served, except for Produce, advertised from v0 although v0-v2 are
     * not served (a v0-v2 request is refused as any unsupported version is). Kafka 4.x does the same (KAFKA-18659):
     * librdkafka turns on its gzip/snappy/lz4 support only for a broker whose Produce range includes v0..v2, and
     * without it sends such batches uncompressed without a word. CompressionInteropTest compares with Kafka.
     */
    static short advertisedMinVersion(ApiKey api) {
        return api == ApiKey.PRODUCE ? 0 : api.minVersion;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        metrics.request(ApiKey.API_VERSIONS);
        ApiVersionsRequest req = ApiVersionsRequest.read(body, ctx.version);
        ApiVersionsResponse rsp = supported();
        if (ctx.version >= 3 && (!SOFTWARE.matcher(req.clientSoftwareName).matches()
            || !SOFTWARE.matcher(req.clientSoftwareVersion).matches())) {
            rsp.errorCode = ErrorCode.INVALID_REQUEST.code;
            ctx.countError(ErrorCode.INVALID_REQUEST);
        }
        ctx.respond(rsp);
    }
}
