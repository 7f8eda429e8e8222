package io.idemlog.server.log;

import io.idemlog.common.protocol.ErrorCode;

/** Told once an offset is durable (NONE) or can never become so (KAFKA_STORAGE_ERROR after a failed fsync). */
@FunctionalInterface
public interface DurabilityCallback {
    void onComplete(ErrorCode error);
}
