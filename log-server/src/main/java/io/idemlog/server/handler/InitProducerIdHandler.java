package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.InitProducerIdRequest;
import io.idemlog.common.protocol.message.InitProducerIdResponse;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.server.state.ProducerIdentities;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * InitProducerId without a transactional id: a producer id never handed out before (persisted in blocks), epoch 0.
 * Transactions are not supported: a transactional id gets INVALID_REQUEST. The allocation runs on the storage-io
 * thread ({@link BrokerContext#runBlocking}): a new block is fsync'd before its first id is handed out.
 */
final class InitProducerIdHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);

    private final BrokerContext broker;

    InitProducerIdHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.INIT_PRODUCER_ID);
        InitProducerIdRequest req = InitProducerIdRequest.read(body, ctx.version);
        if (req.transactionalId != null) {
            LOG.debug("refusing InitProducerId with transactional id '{}' from {}: transactions are not supported",
                LogSafe.string(req.transactionalId), ctx.remoteAddress());
            InitProducerIdResponse rsp = new InitProducerIdResponse();
            rsp.errorCode = ErrorCode.INVALID_REQUEST.code;
            ctx.countError(ErrorCode.INVALID_REQUEST);
            ctx.respond(rsp);
            return;
        }
        String name = ctx.version >= 2 ? req.producerName() : null;
        // Every 1000th id fsyncs a new block, every named init fsyncs its identity: never on the event loop.
        broker.runBlocking(ctx, "producer id allocation", () -> {
            InitProducerIdResponse rsp = name == null ? allocate() : named(name);
            ctx.countError(ErrorCode.forCode(rsp.errorCode));
            ctx.respond(rsp);
        });
    }

    /**
     * A named producer: the same id at an epoch above any its earlier incarnations used (they are fenced), and the
     * name echoed in the response's tagged field, which tells the client the server understood it. A store that
     * keeps no identities answers like an unnamed init, without the echo (the client then fails clearly).
     */
    private InitProducerIdResponse named(String name) {
        InitProducerIdResponse rsp = new InitProducerIdResponse();
        try {
            ProducerIdentities.Identity id = broker.logs().initNamedProducer(name);
            if (id == null) {
                return allocate();
            }
            rsp.producerId = id.producerId();
            rsp.producerEpoch = id.epoch();
            rsp.taggedFields = new RawTaggedFields();
            rsp.taggedFields.add(InitProducerIdRequest.PRODUCER_NAME_TAG, name.getBytes(StandardCharsets.UTF_8));
            broker.metrics().producerIdsAllocated.increment();
            LOG.info("named producer '{}': producer id {} epoch {}", LogSafe.string(name), id.producerId(),
                id.epoch());
        } catch (IllegalArgumentException e) {
            rsp.errorCode = ErrorCode.INVALID_REQUEST.code;
        } catch (IOException e) {
            broker.metrics().storageErrors.increment();
            LOG.error("cannot persist a producer identity", e);
            rsp.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
        }
        return rsp;
    }

    private InitProducerIdResponse allocate() {
        InitProducerIdResponse rsp = new InitProducerIdResponse();
        try {
            rsp.producerId = broker.logs().nextProducerId();
            rsp.producerEpoch = 0;
            broker.metrics().producerIdsAllocated.increment();
        } catch (IOException e) {
            broker.metrics().storageErrors.increment();
            LOG.error("cannot persist the producer id block", e);
            rsp.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
        }
        return rsp;
    }
}
