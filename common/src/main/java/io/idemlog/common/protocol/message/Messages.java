package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.WireReader;

/**
 * Dispatch from an {@link ApiKey} to the body codec of its request or response; the group APIs through
 * {@link GroupApis}, by id.
 */
public final class Messages {
    private Messages() {
    }

    public static Message readRequest(ApiKey api, WireReader reader, short version) {
        return switch (api) {
            case PRODUCE -> ProduceRequest.read(reader, version);
            case FETCH -> FetchRequest.read(reader, version);
            case LIST_OFFSETS -> ListOffsetsRequest.read(reader, version);
            case METADATA -> MetadataRequest.read(reader, version);
            case API_VERSIONS -> ApiVersionsRequest.read(reader, version);
            case INIT_PRODUCER_ID -> InitProducerIdRequest.read(reader, version);
            case CREATE_TOPICS -> CreateTopicsRequest.read(reader, version);
            case DELETE_TOPICS -> DeleteTopicsRequest.read(reader, version);
            case DESCRIBE_CONFIGS -> DescribeConfigsRequest.read(reader, version);
            case CREATE_PARTITIONS -> CreatePartitionsRequest.read(reader, version);
            case ALTER_CONFIGS -> AlterConfigsRequest.readAlter(reader, version);
            case INCREMENTAL_ALTER_CONFIGS -> AlterConfigsRequest.readIncremental(reader, version);
            case DESCRIBE_CLUSTER -> DescribeClusterRequest.read(reader, version);
            case DESCRIBE_PRODUCERS -> DescribeProducersRequest.read(reader, version);
            case DELETE_RECORDS -> DeleteRecordsRequest.read(reader, version);
            case DESCRIBE_LOG_DIRS -> DescribeLogDirsRequest.read(reader, version);
            case OFFSET_FOR_LEADER_EPOCH -> OffsetForLeaderEpochRequest.read(reader, version);
            default -> GroupApis.require(api).request().read(reader, version);
        };
    }

    public static Message readResponse(ApiKey api, WireReader reader, short version) {
        return switch (api) {
            case PRODUCE -> ProduceResponse.read(reader, version);
            case FETCH -> FetchResponse.read(reader, version);
            case LIST_OFFSETS -> ListOffsetsResponse.read(reader, version);
            case METADATA -> MetadataResponse.read(reader, version);
            case API_VERSIONS -> ApiVersionsResponse.read(reader, version);
            case INIT_PRODUCER_ID -> InitProducerIdResponse.read(reader, version);
            case CREATE_TOPICS -> CreateTopicsResponse.read(reader, version);
            case DELETE_TOPICS -> DeleteTopicsResponse.read(reader, version);
            case DESCRIBE_CONFIGS -> DescribeConfigsResponse.read(reader, version);
            case CREATE_PARTITIONS -> CreatePartitionsResponse.read(reader, version);
            case ALTER_CONFIGS -> AlterConfigsResponse.readAlter(reader, version);
            case INCREMENTAL_ALTER_CONFIGS -> AlterConfigsResponse.readIncremental(reader, version);
            case DESCRIBE_CLUSTER -> DescribeClusterResponse.read(reader, version);
            case DESCRIBE_PRODUCERS -> DescribeProducersResponse.read(reader, version);
            case DELETE_RECORDS -> DeleteRecordsResponse.read(reader, version);
            case DESCRIBE_LOG_DIRS -> DescribeLogDirsResponse.read(reader, version);
            case OFFSET_FOR_LEADER_EPOCH -> OffsetForLeaderEpochResponse.read(reader, version);
            default -> GroupApis.require(api).response().read(reader, version);
        };
    }
}
