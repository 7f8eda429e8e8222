package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.LogSafe;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.message.DeleteTopicsRequest;
import io.idemlog.common.protocol.message.DeleteTopicsResponse;
import io.idemlog.server.metadata.AdminException;
import io.idemlog.server.network.ApiHandler;
import io.idemlog.server.network.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * DeleteTopics: by name, or from v6 by id (UNKNOWN_TOPIC_ID when no topic has it). Each deletion runs on the
 * storage-io thread (one topic per task): durable first, then the partitions stop and their files go after
 * log.segment.delete.delay.ms (see LogStore#deleteTopic). An unknown name answers UNKNOWN_TOPIC_OR_PARTITION.
 */
final class DeleteTopicsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeleteTopicsHandler.class);

    private final BrokerContext broker;

    DeleteTopicsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext ctx, WireReader body) {
        broker.metrics().request(ApiKey.DELETE_TOPICS);
        DeleteTopicsRequest req = DeleteTopicsRequest.read(body, ctx.version);
        DeleteTopicsResponse rsp = new DeleteTopicsResponse();
        for (DeleteTopicsRequest.Topic t : req.topics) {
            DeleteTopicsResponse.Result r = new DeleteTopicsResponse.Result();
            r.name = t.name;
            r.topicId = t.topicId;
            rsp.responses.add(r);
        }
        if (rsp.responses.isEmpty()) {
            ctx.respond(rsp);
            return;
        }
        step(ctx, rsp, rsp.responses, 0);
    }

    private void step(RequestContext ctx, DeleteTopicsResponse rsp, List<DeleteTopicsResponse.Result> todo, int i) {
        broker.runBlocking(ctx, "topic deletion", () -> {
            if (!ctx.isConnectionOpen()) {
                return;
            }
            delete(todo.get(i));
            if (i + 1 < todo.size()) {
                step(ctx, rsp, todo, i + 1);
            } else {
                for (DeleteTopicsResponse.Result r : rsp.responses) {
                    if (r.errorCode != 0) {
                        ctx.countError(ErrorCode.forCode(r.errorCode));
                    }
                }
                ctx.respond(rsp);
            }
        });
    }

    private void delete(DeleteTopicsResponse.Result r) {
        String name = r.name;
        if (name == null) {
            UUID id = r.topicId;
            name = id == null ? null : broker.logs().topicName(id);
            if (name == null) {
                r.errorCode = ErrorCode.UNKNOWN_TOPIC_ID.code;
                r.errorMessage = "This server does not host topic id " + id + ".";
                return;
            }
            r.name = name;
        } else {
            UUID id = broker.logs().topicId(name);
            if (id != null) {
                r.topicId = id;
            }
        }
        try {
            broker.logs().deleteTopic(name);
        } catch (AdminException e) {
            r.errorCode = e.error().code;
            r.errorMessage = e.getMessage();
        } catch (IOException e) {
            broker.metrics().storageErrors.increment();
            LOG.error("cannot delete topic {}", LogSafe.string(name), e);
            r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR.code;
            r.errorMessage = "storage error: " + e.getMessage();
        }
    }
}
