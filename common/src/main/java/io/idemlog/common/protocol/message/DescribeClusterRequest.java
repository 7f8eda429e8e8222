package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

/** DescribeCluster request v0-v2 (always flexible): endpoint type v1+, include fenced brokers v2+. */
public final class DescribeClusterRequest implements Message {
    public boolean includeClusterAuthorizedOperations;
    /** 1 = brokers, 2 = controllers. */
    public byte endpointType = 1;
    public boolean includeFencedBrokers;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_CLUSTER;
    }

    public static DescribeClusterRequest read(WireReader r, short version) {
        DescribeClusterRequest m = new DescribeClusterRequest();
        m.includeClusterAuthorizedOperations = r.readBoolean();
        if (version >= 1) {
            m.endpointType = r.readInt8();
        }
        if (version >= 2) {
            m.includeFencedBrokers = r.readBoolean();
        }
        m.taggedFields = r.readTaggedFields();
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeBoolean(includeClusterAuthorizedOperations);
        if (version >= 1) {
            w.writeInt8(endpointType);
        }
        if (version >= 2) {
            w.writeBoolean(includeFencedBrokers);
        }
        w.writeTaggedFields(taggedFields);
    }
}
