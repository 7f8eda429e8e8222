package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/** DescribeCluster response v0-v2 (always flexible): the brokers, cluster id and controller. */
public final class DescribeClusterResponse implements Message {
    /** One broker. */
    public static final class Broker {
        public int brokerId;
        public String host;
        public int port;
        public String rack;
        /** v2+. */
        public boolean isFenced;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public short errorCode;
    public String errorMessage;
    public byte endpointType = 1;
    public String clusterId;
    public int controllerId = -1;
    public final List<Broker> brokers = new ArrayList<>();
    public int clusterAuthorizedOperations = Integer.MIN_VALUE;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_CLUSTER;
    }

    public static DescribeClusterResponse read(WireReader r, short version) {
        DescribeClusterResponse m = new DescribeClusterResponse();
        m.throttleTimeMs = r.readInt32();
        m.errorCode = r.readInt16();
        m.errorMessage = r.readNullableString(true);
        if (version >= 1) {
            m.endpointType = r.readInt8();
        }
        m.clusterId = r.readString(true);
        m.controllerId = r.readInt32();
        int n = r.readNonNullArrayLength(true, 10);
        for (int i = 0; i < n; i++) {
            Broker b = new Broker();
            b.brokerId = r.readInt32();
            b.host = r.readString(true);
            b.port = r.readInt32();
            b.rack = r.readNullableString(true);
            if (version >= 2) {
                b.isFenced = r.readBoolean();
            }
            b.taggedFields = r.readTaggedFields();
            m.brokers.add(b);
        }
        m.clusterAuthorizedOperations = r.readInt32();
        m.taggedFields = r.readTaggedFields();
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        w.writeInt32(throttleTimeMs).writeInt16(errorCode).writeNullableString(errorMessage, true);
        if (version >= 1) {
            w.writeInt8(endpointType);
        }
        w.writeString(clusterId, true).writeInt32(controllerId);
        w.writeArrayLength(brokers.size(), true);
        for (Broker b : brokers) {
            w.writeInt32(b.brokerId).writeString(b.host, true).writeInt32(b.port).writeNullableString(b.rack, true);
            if (version >= 2) {
                w.writeBoolean(b.isFenced);
            }
            w.writeTaggedFields(b.taggedFields);
        }
        w.writeInt32(clusterAuthorizedOperations);
        w.writeTaggedFields(taggedFields);
    }
}
