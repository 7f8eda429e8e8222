package io.idemlog.server.handler;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.server.group.GroupCoordinatorService;
import io.idemlog.server.network.ApiHandler;

/** The registry: one handler per api key, indexed by the key's wire id. */
public final class Handlers {
    private Handlers() {
    }

    /** The handlers without a group coordinator: the group APIs answer COORDINATOR_NOT_AVAILABLE (tests). */
    public static ApiHandler[] create(BrokerContext broker) {
        return create(broker, (GroupCoordinatorService) null);
    }

    /** The handlers, the group APIs served by {@code groups} (this node: every group's coordinator). */
    public static ApiHandler[] create(BrokerContext broker, GroupCoordinatorService groups) {
        return create(broker, GroupCoordinators.single(groups));
    }

    /** The handlers, the group APIs served by whichever coordinator {@code groups} names. */
    public static ApiHandler[] create(BrokerContext broker, GroupCoordinators groups) {
        ApiHandler[] handlers = new ApiHandler[ApiKey.ID_LIMIT];
        handlers[ApiKey.API_VERSIONS.id] = new ApiVersionsHandler(broker.metrics());
        handlers[ApiKey.METADATA.id] = new MetadataHandler(broker);
        handlers[ApiKey.INIT_PRODUCER_ID.id] = new InitProducerIdHandler(broker);
        handlers[ApiKey.PRODUCE.id] = new ProduceHandler(broker);
        handlers[ApiKey.LIST_OFFSETS.id] = new ListOffsetsHandler(broker);
        handlers[ApiKey.FETCH.id] = new FetchHandler(broker);
        handlers[ApiKey.CREATE_TOPICS.id] = new CreateTopicsHandler(broker);
        handlers[ApiKey.DELETE_TOPICS.id] = new DeleteTopicsHandler(broker);
        handlers[ApiKey.DESCRIBE_CONFIGS.id] = new DescribeConfigsHandler(broker);
        handlers[ApiKey.CREATE_PARTITIONS.id] = new CreatePartitionsHandler(broker);
        handlers[ApiKey.ALTER_CONFIGS.id] = new AlterConfigsHandler(broker, false);
        handlers[ApiKey.INCREMENTAL_ALTER_CONFIGS.id] = new AlterConfigsHandler(broker, true);
        handlers[ApiKey.DESCRIBE_CLUSTER.id] = new DescribeClusterHandler(broker);
        handlers[ApiKey.DESCRIBE_PRODUCERS.id] = new DescribeProducersHandler(broker);
        handlers[ApiKey.DELETE_RECORDS.id] = new DeleteRecordsHandler(broker);
        handlers[ApiKey.DESCRIBE_LOG_DIRS.id] = new DescribeLogDirsHandler(broker);
        handlers[ApiKey.OFFSET_FOR_LEADER_EPOCH.id] = new OffsetForLeaderEpochHandler(broker);
        GroupHandlers.register(handlers, broker, groups);
        for (ApiKey api : ApiKey.values()) {
            if (handlers[api.id] == null) {
                throw new IllegalStateException("no handler for " + api);
            }
        }
        return handlers;
    }
}
