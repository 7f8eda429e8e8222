package io.idemlog.common.fuzz;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.message.GroupApis;
import io.idemlog.common.protocol.message.Messages;

import java.util.ArrayList;
import java.util.List;

/**
 * The request body decoders under fuzzing: every {@link ApiKey} (in declaration order, so the first byte of the
 * committed requestBody seeds keeps choosing the same API), then every {@link GroupApis} API that ApiKey does not
 * have yet (their codecs land before their handlers). Once an API gets its ApiKey constant it is reached through
 * ApiKey and no longer listed twice.
 */
final class RequestTargets {
    /** One decoder: a name for messages, its version range and the body reader. */
    record Target(String name, short minVersion, short maxVersion, GroupApis.Reader reader) {
    }

    static final List<Target> ALL = build();

    private RequestTargets() {
    }

    private static List<Target> build() {
        List<Target> out = new ArrayList<>();
        for (ApiKey api : ApiKey.values()) {
            out.add(new Target(api.name(), api.minVersion, api.maxVersion, (r, v) -> Messages.readRequest(api, r, v)));
        }
        for (GroupApis.Api api : GroupApis.ALL) {
            if (api.apiKey() == null) {
                out.add(new Target(api.name(), api.minVersion(), api.maxVersion(), api.request()));
            }
        }
        return List.copyOf(out);
    }
}
