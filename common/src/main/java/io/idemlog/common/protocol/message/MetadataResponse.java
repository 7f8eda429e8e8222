package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Metadata response v0-v12 (v9 flexible; topic ids v10+; cluster authorized operations v8-v10 only; topic name
 * nullable v12+). Fields absent from a version are skipped on both read and write.
 */
public final class MetadataResponse implements Message {
    public static final int AUTHORIZED_OPERATIONS_OMITTED = Integer.MIN_VALUE;

    /** A broker: id and the address clients connect to. */
    public static final class Broker {
        public int nodeId;
        public String host;
        public int port;
        public String rack;
        public RawTaggedFields taggedFields;

        public Broker() {
        }

        public Broker(int nodeId, String host, int port) {
            this.nodeId = nodeId;
            this.host = host;
            this.port = port;
        }
    }

    /** A partition's leader and replicas. */
    public static final class Partition {
        public short errorCode;
        public int partitionIndex;
        public int leaderId;
        public int leaderEpoch = -1;
        public int[] replicaNodes = Int32Arrays.EMPTY;
        public int[] isrNodes = Int32Arrays.EMPTY;
        public int[] offlineReplicas = Int32Arrays.EMPTY;
        public RawTaggedFields taggedFields;
    }

    /** A topic and its partitions. */
    public static final class Topic {
        public short errorCode;
        public String name;
        /** v10+: the topic's id (zero when unknown). */
        public java.util.UUID topicId = new java.util.UUID(0, 0);
        public boolean isInternal;
        public final List<Partition> partitions = new ArrayList<>();
        public int topicAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public final List<Broker> brokers = new ArrayList<>();
    public String clusterId;
    public int controllerId = -1;
    public final List<Topic> topics = new ArrayList<>();
    public int clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.METADATA;
    }

    public Topic findTopic(String name) {
        for (Topic t : topics) {
            if (name.equals(t.name)) {
                return t;
            }
        }
        return null;
    }

    public Broker findBroker(int nodeId) {
        for (Broker b : brokers) {
            if (b.nodeId == nodeId) {
                return b;
            }
        }
        return null;
    }

    public static MetadataResponse read(WireReader r, short version) {
        boolean flex = version >= 9;
        MetadataResponse m = new MetadataResponse();
        if (version >= 3) {
            m.throttleTimeMs = r.readInt32();
        }
        int nb = r.readNonNullArrayLength(flex, 10);
        for (int i = 0; i < nb; i++) {
            Broker b = new Broker();
            b.nodeId = r.readInt32();
            b.host = r.readString(flex);
            b.port = r.readInt32();
            if (version >= 1) {
                b.rack = r.readNullableString(flex);
            }
            b.taggedFields = r.readTaggedFieldsIf(flex);
            m.brokers.add(b);
        }
        if (version >= 2) {
            m.clusterId = r.readNullableString(flex);
        }
        if (version >= 1) {
            m.controllerId = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, 4);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.errorCode = r.readInt16();
            t.name = version >= 12 ? r.readNullableString(flex) : r.readString(flex);
            if (version >= 10) {
                t.topicId = r.readUuid();
            }
            if (version >= 1) {
                t.isInternal = r.readBoolean();
            }
            int np = r.readNonNullArrayLength(flex, 10);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.errorCode = r.readInt16();
                p.partitionIndex = r.readInt32();
                p.leaderId = r.readInt32();
                if (version >= 7) {
                    p.leaderEpoch = r.readInt32();
                }
                p.replicaNodes = Int32Arrays.read(r, flex);
                p.isrNodes = Int32Arrays.read(r, flex);
                if (version >= 5) {
                    p.offlineReplicas = Int32Arrays.read(r, flex);
                }
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            if (version >= 8) {
                t.topicAuthorizedOperations = r.readInt32();
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        if (version >= 8 && version <= 10) {
            m.clusterAuthorizedOperations = r.readInt32();
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 9;
        if (version >= 3) {
            w.writeInt32(throttleTimeMs);
        }
        w.writeArrayLength(brokers.size(), flex);
        for (Broker b : brokers) {
            w.writeInt32(b.nodeId).writeString(b.host, flex).writeInt32(b.port);
            if (version >= 1) {
                w.writeNullableString(b.rack, flex);
            }
            w.writeTaggedFieldsIf(flex, b.taggedFields);
        }
        if (version >= 2) {
            w.writeNullableString(clusterId, flex);
        }
        if (version >= 1) {
            w.writeInt32(controllerId);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeInt16(t.errorCode);
            if (version >= 12) {
                w.writeNullableString(t.name, flex);
            } else {
                w.writeString(t.name == null ? "" : t.name, flex);
            }
            if (version >= 10) {
                w.writeUuid(t.topicId);
            }
            if (version >= 1) {
                w.writeBoolean(t.isInternal);
            }
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt16(p.errorCode).writeInt32(p.partitionIndex).writeInt32(p.leaderId);
                if (version >= 7) {
                    w.writeInt32(p.leaderEpoch);
                }
                Int32Arrays.write(w, p.replicaNodes, flex);
                Int32Arrays.write(w, p.isrNodes, flex);
                if (version >= 5) {
                    Int32Arrays.write(w, p.offlineReplicas, flex);
                }
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            if (version >= 8) {
                w.writeInt32(t.topicAuthorizedOperations);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        if (version >= 8 && version <= 10) {
            w.writeInt32(clusterAuthorizedOperations);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
